"""Golden AST dumps of a few programs (spans included). Regenerate after an intended change
with ``N3_UPDATE_GOLDEN=1 pytest tests/syntax/test_golden.py`` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from n3lang.syntax import dump, parse_source

HERE = Path(__file__).resolve().parent
VALID = HERE.parent / "data" / "valid"
CASES = [
    "002_language_models",
    "005_record_fields",
    "009_define_function",
    "014_match",
    "019_expressions_arith",
    "021_expressions_bool",
    "023_lists",
    "025_builtins",
]


@pytest.mark.parametrize("stem", CASES)
def test_golden_ast(stem: str) -> None:
    source = (VALID / f"{stem}.ai").read_text(encoding="utf-8")
    program, diagnostics = parse_source(source, f"{stem}.ai")
    assert diagnostics == []
    text = dump(program)
    golden = HERE / "golden" / f"{stem}.txt"
    if os.environ.get("N3_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
