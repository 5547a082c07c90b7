"""`n3 schema [NAME]`: print a shipped JSON Schema (or list their names); `--write DIR` copies
them all into a folder, for editors and tools that work offline."""

from __future__ import annotations

from pathlib import Path

import click

from n3lang.cli.common import fail
from n3lang.diagnostics import make, register
from n3lang.resources import read_text, schema_names
from n3lang.words import did_you_mean

SCHEMA_UNKNOWN = register("schema-unknown", why="Only the schemas shipped with n3 can be printed.",
                          fix="Use one of the names `n3 schema` lists.", example="n3 schema training-config")
SCHEMA_WRITE_CONFLICT = register(
    "schema-write-conflict",
    why="A file of that name already holds something else (an older n3's schema, or your own edits); "
        "`n3 schema --write` does not replace it silently.",
    fix="Pass --force to replace it, or write into another folder.",
    example="n3 schema --write .n3/schemas --force")
SCHEMA_WRITE_FAILED = register(
    "schema-write-failed", why="The folder or a file in it could not be created.",
    fix="Check that the path is a folder you may write to.", example="n3 schema --write .n3/schemas")


@click.command()
@click.argument("name", required=False)
@click.option("--write", "write_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Write every schema as DIR/<name>.schema.json (DIR is created if missing).")
@click.option("--force", is_flag=True, help="With --write: replace files that hold something else.")
def schema(name: str | None, write_dir: Path | None, force: bool) -> None:
    """Print a shipped JSON Schema, or list their names without NAME.

    NAME is one of: training-config, registry, metadata, metrics-report, explain-report,
    diagnostics.

    --write DIR writes all of them as DIR/<name>.schema.json, wherever DIR is (relative to the
    current directory), and prints one line per file: `wrote PATH`, or `unchanged PATH` when the
    file already holds the same schema. If any file there holds something else, nothing is
    written and the command exits 1, unless --force is given. Example, for editors offline:

    \b
        n3 schema --write .n3/schemas
    """
    names = schema_names()
    if write_dir is not None:
        if name:
            raise click.UsageError("give either NAME or --write DIR, not both")
        write_all(write_dir, names, force)
        return
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


def write_all(folder: Path, names: list[str], force: bool) -> None:
    """Write every schema into ``folder``; all or nothing when a file holds something else."""
    texts = {folder / f"{n}.schema.json": read_text("schemas", f"{n}.schema.json").encode("utf-8") for n in names}
    try:  # compared as bytes: a file that is not UTF-8 is other content, not a crash
        current = {path: path.read_bytes() if path.is_file() else None for path in texts}
    except OSError as exc:
        fail([make(SCHEMA_WRITE_FAILED, f"cannot read {exc.filename or folder}: {exc.strerror or exc}",
                   file=str(folder))], False)
    conflicts = [path for path, text in texts.items() if current[path] not in (None, text)]
    if conflicts and not force:
        fail([make(SCHEMA_WRITE_CONFLICT, f"{p} already exists with other content; nothing was written",
                   file=str(p)) for p in conflicts], False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in texts.items():
            if current[path] == text:
                click.echo(f"unchanged {path}")
                continue
            path.write_bytes(text)
            click.echo(f"wrote {path}")
    except OSError as exc:
        fail([make(SCHEMA_WRITE_FAILED, f"cannot write {exc.filename or folder}: {exc.strerror or exc}",
                   file=str(folder))], False)
