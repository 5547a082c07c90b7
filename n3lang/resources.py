"""Find the data files shipped with the package: the grammar, JSON Schemas and base catalog.

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
    """Path of ``name`` in one of the data folders: ``grammar``, ``schemas`` or ``models``."""
    source = _SOURCE_ROOT / kind / name
    if source.is_file():
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
