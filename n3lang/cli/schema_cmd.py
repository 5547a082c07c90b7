"""`n3 schema [NAME]`: print a shipped JSON Schema (or list their names)."""

from __future__ import annotations

import click

from n3lang.cli.common import fail
from n3lang.diagnostics import make, register
from n3lang.resources import read_text, schema_names
from n3lang.words import did_you_mean

SCHEMA_UNKNOWN = register("schema-unknown", why="Only the schemas shipped with n3 can be printed.",
                          fix="Use one of the names `n3 schema` lists.", example="n3 schema training-config")


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
        hint = did_you_mean(name, names)
        fail([make(SCHEMA_UNKNOWN, f"no schema named {name!r}{hint} (known: {', '.join(names)})",
                   file="<command line>")], False)
    click.echo(read_text("schemas", f"{name}.schema.json"), nl=False)
