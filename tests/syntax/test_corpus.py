"""Data-driven parser tests: tests/data/valid parses cleanly; tests/data/syntax_errors states
its diagnostics inline (``# expect: CODE LINE:COL MESSAGE``, one line per diagnostic, in
position order, the same convention as tests/data/invalid/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from n3lang import ast as A
from n3lang.diagnostics import REGISTRY
from n3lang.syntax import parse_file, parse_source

DATA = Path(__file__).resolve().parent.parent / "data"
EXPECT = re.compile(r"^# expect: (\S+) (\d+):(\d+) (.*)$")
VALID = sorted((DATA / "valid").glob("*.ai"))
ERRORS = sorted((DATA / "syntax_errors").glob("*.ai"))


def expectations(path: Path) -> list[tuple[str, int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            break
        m = EXPECT.match(line)
        assert m, f"{path.name}: malformed expectation line {line!r}"
        out.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


def test_corpora_are_large_enough():
    assert len(VALID) >= 60
    assert len(ERRORS) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_program_parses(path: Path) -> None:
    program, diagnostics, source = parse_file(path)
    assert diagnostics == []
    assert isinstance(program, A.Program)
    assert program.declarations
    assert program.path == str(path)
    assert source


@pytest.mark.parametrize("path", ERRORS, ids=lambda p: p.stem)
def test_syntax_error_program(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    program, diagnostics, _ = parse_file(path)
    got = [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics]
    assert got == expected
    for d in diagnostics:
        assert d.file == str(path)
        assert d.code in REGISTRY
        assert d.why and d.fix and d.example
        assert "_NL" not in d.message and "__ANON" not in d.message
    assert isinstance(program, A.Program)


def test_recovery_keeps_the_declarations_that_parse() -> None:
    program, diagnostics = parse_source(
        (DATA / "syntax_errors" / "several_errors.ai").read_text(encoding="utf-8")
    )
    assert len(diagnostics) == 2
    names = [getattr(d, "name", None) for d in program.declarations]
    assert names == [None, "a", "b", "R"]
