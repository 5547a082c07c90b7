"""`n3 schema [NAME]`: print a shipped JSON Schema (or list their names)."""

from __future__ import annotations

import click

from n3lang.cli.common import fail
from n3lang.resources import read_text, schema_names


@click.command()
@click.argument("name", required=False)
def schema(name: str | None) -> None:
    """Print a shipped JSON Schema, or list their names without NAME.

    NAME is one of: training-config, registry, metadata, metrics-report, explain-report,
    diagnostics.
    """
    names = schema_names()
    if not name:
        for n in names:
            click.echo(n)
        return
    if name.endswith(".schema.json"):
        name = name[: -len(".schema.json")]
    if name not in names:
        import difflib

        from n3lang.diagnostics import register, make

        code = register("schema-unknown", why="Only the schemas shipped with n3 can be printed.",
                        fix="Use one of the names `n3 schema` lists.", example="n3 schema training-config")
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        fail([make(code, f"no schema named {name!r}{hint} (known: {', '.join(names)})", file="<command line>")], False)
    click.echo(read_text("schemas", f"{name}.schema.json"), nl=False)
