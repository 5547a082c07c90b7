"""Find the data files shipped with the package: the grammar, JSON Schemas, base catalog and
the `n3 init` templates.

In a source checkout (or an editable install) they live at the repository root; in an
installed wheel they are package data under ``n3lang/_data``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def data_path(kind: str, name: str) -> Path:
    """Path of ``name`` in one of the data folders: ``grammar``, ``schemas``, ``models`` or
    ``templates``."""
    source = _SOURCE_ROOT / kind / name
    if source.exists():
        return source
    return Path(str(resources.files(f"n3lang._data.{kind}").joinpath(name)))


def read_text(kind: str, name: str) -> str:
    """Text of a shipped data file."""
    return data_path(kind, name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    """A JSON Schema from ``schemas/<name>.schema.json``."""
    return json.loads(read_text("schemas", f"{name}.schema.json"))


def schema_names() -> list[str]:
    """Names of every shipped schema (for `n3 schema`)."""
    folder = data_path("schemas", "diagnostics.schema.json").parent
    return sorted(p.name[: -len(".schema.json")] for p in folder.glob("*.schema.json"))


def template_names() -> list[str]:
    """Names of the `n3 init` templates (folders under ``templates/``)."""
    folder = data_path("templates", "blank").parent
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def template_files(name: str) -> list[tuple[str, bytes]]:
    """Every file of template ``name`` as (POSIX path relative to the template, bytes), in
    path order, so a new app is written the same way every time."""
    root = data_path("templates", name)
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in files)
