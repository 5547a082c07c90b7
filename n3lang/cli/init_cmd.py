"""`n3 init [FOLDER] [--template NAME]`: start a new app folder from a shipped template.

A template is a folder of files under ``templates/`` (package data): ``app.ai``, a README and,
for the trained templates, ``training.yaml`` and a small dataset. Apps with a training.yaml
also get ``.n3/schemas/`` (the shipped JSON Schemas), where the modelines of training.yaml
and models_registry.yaml point.

Two promises: init never overwrites a file (files are created with O_EXCL; whatever is
already there is kept and reported), and it never writes outside FOLDER (it does not follow a
symbolic link found inside FOLDER). The same template gives the same bytes every time.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from n3lang.cli.common import echo, fail
from n3lang.diagnostics import make, register
from n3lang.resources import read_text, schema_names, template_files

INIT_NOT_EMPTY = register(
    "init-folder-not-empty",
    why="`n3 init` starts a new app; mixed with files already there, the app's own files would "
        "be hard to tell apart.",
    fix="Name a new or empty folder, or pass --into-existing to add the template's files beside "
        "the others (existing files are kept, never overwritten).",
    example="n3 init my-app")
INIT_NOT_A_FOLDER = register(
    "init-not-a-folder", why="The app is created inside a folder, and a file of that name is in the way.",
    fix="Name a folder that does not exist yet (n3 init creates it).", example="n3 init my-app")
INIT_WRITE_FAILED = register(
    "init-write-failed", why="The folder or a file in it could not be created.",
    fix="Check that the path is a folder you may write to, then run n3 init again: "
        "files it already wrote are kept.",
    example="n3 init my-app")

# template -> (what it is, the --input of its run command, whether it trains a model)
TEMPLATES = {
    "text": ("a support inbox with a text model", '{"message": "I was charged twice this month"}', True),
    "image": ("shapes with an image model", '{"image": "samples/circle.png"}', True),
    "audio": ("whistles with an audio model", '{"audio": "samples/rising.wav"}', True),
    "blank": ("one flow, no model", '{"name": "Ada"}', False),
}
SCHEMA_DIR = ".n3/schemas"


@click.command()
@click.argument("folder", required=False, default=".", type=click.Path(path_type=Path))
@click.option("--template", "-t", type=click.Choice(list(TEMPLATES)), default="text", show_default=True,
              help="What the new app starts with.")
@click.option("--into-existing", is_flag=True,
              help="Also write into a folder that is not empty. Existing files are still never overwritten.")
def init(folder: Path, template: str, into_existing: bool) -> None:
    """Create a new app in FOLDER (default: the current folder, which must then be empty).

    \b
    Templates:
      text   a support inbox: a text model learns four intents from 80 messages
      image  shapes: an image model tells circles, squares and crosses apart
      audio  whistles: an audio model hears rising, falling and steady whistles
      blank  app.ai with one flow and a README, no model

    The folder gets app.ai, README.md and, except for blank, training.yaml, a small dataset
    under data/ and the JSON Schemas under .n3/schemas/ that training.yaml's first line points
    editors to. init prints the commands that train the model and run the app.

    FOLDER is created if missing. A folder that is not empty is refused unless
    --into-existing is given; even then no existing file is overwritten (each is kept and
    listed), and nothing is written through a symbolic link.

    \b
    Examples:
      n3 init demo
      n3 init shapes --template image
      n3 init . --template blank --into-existing
    """
    files = list(template_files(template))
    if TEMPLATES[template][2]:
        files += [(f"{SCHEMA_DIR}/{n}.schema.json", read_text("schemas", f"{n}.schema.json").encode("utf-8"))
                  for n in schema_names()]
    _check_folder(folder, into_existing)
    created: list[str] = []
    kept: list[str] = []
    for rel, data in files:
        (created if _write_new(folder, rel, data) else kept).append(rel)
    _report(folder, template, created, kept)


def _check_folder(folder: Path, into_existing: bool) -> None:
    """Refuse a file in the way, and a non-empty folder unless into_existing."""
    shown = str(folder)
    if folder.exists() and not folder.is_dir():
        fail([make(INIT_NOT_A_FOLDER, f"{shown} exists and is not a folder", file=shown)], False)
    if not folder.exists() or into_existing:
        return
    try:
        entries = sorted(os.listdir(folder))
    except OSError as exc:
        fail([make(INIT_WRITE_FAILED, f"cannot read {shown}: {exc.strerror or exc}", file=shown)], False)
    if entries:
        some = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        where = "the current folder" if shown == "." else shown
        fail([make(INIT_NOT_EMPTY, f"{where} is not empty ({count}: {some}); nothing was written",
                   file=shown)], False)


def _write_new(folder: Path, rel: str, data: bytes) -> bool:
    """Create folder/rel holding ``data``; False (and nothing written) when something is
    already there, or when a folder on the way is a symbolic link or a file."""
    parts = rel.split("/")
    here = folder
    try:
        for name in [None, *parts[:-1]]:
            if name is not None:
                here = here / name
            if here.is_symlink() and here != folder:
                return False
            if not here.exists():
                here.mkdir(parents=here == folder)
            elif not here.is_dir():
                return False
        target = here / parts[-1]
        # O_EXCL: an existing file, folder or symbolic link (even a dangling one) stays as it is
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        fail([make(INIT_WRITE_FAILED, f"cannot create {exc.filename or here}: {exc.strerror or exc}",
                   file=str(folder))], False)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return True


def _report(folder: Path, template: str, created: list[str], kept: list[str]) -> None:
    """What was written and kept, then the commands to train and run, ready to copy."""
    what, run_input, trains = TEMPLATES[template]
    where = "the current folder" if str(folder) == "." else f"{folder}/"
    echo(f"Created {len(created)} file{'s' * (len(created) != 1)} in {where} ({template} template: {what}).")
    for rel in kept:
        echo(f"  kept {rel}: it was already there and is left as it is")
    echo("")
    echo("Next:" if not trains else "Train the model, then run the app:")
    echo("")
    if str(folder) != ".":
        echo(f"  cd {shlex.quote(str(folder))}")
    if trains:
        echo("  n3 train --config training.yaml")
    echo(f"  n3 run app.ai --input {shlex.quote(run_input)}")
