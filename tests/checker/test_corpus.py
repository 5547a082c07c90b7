"""Data-driven: every program under tests/data/invalid/ states its diagnostics inline.

Convention (shared with tests/data/syntax_errors/): the file starts with one comment line per
expected diagnostic, in position order, ``# expect: CODE LINE:COL MESSAGE``. The test compares
exactly the list of (code, line, column, message) that parse + check produce, warnings and
notes included. Programs under tests/data/valid/ must produce no error at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
EXPECT = re.compile(r"^# expect: (\S+) (\d+):(\d+) (.*)$")

from n3lang.frontend import analyze


def expectations(path: Path) -> list[tuple[str, int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect:"):
            break
        m = EXPECT.match(line)
        assert m, f"{path.name}: malformed expectation line {line!r}"
        out.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return out


INVALID = sorted((DATA / "invalid").glob("*.ai"))
VALID = sorted((DATA / "valid").glob("**/*.ai"))
# The runtime's corpus: programs that state a `# result:` are expected to run, so they must
# check without errors too (their expected failures are stated as `# error:` instead).
RUNS = sorted(p for p in (DATA / "run").glob("*.ai") if "# result:" in p.read_text(encoding="utf-8"))


def test_corpus_is_large_enough():
    assert len(INVALID) >= 60


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_program(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    diagnostics = list(analyze(path).diagnostics)
    got = [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics]
    assert got == expected
    assert all(d.file == str(path) for d in diagnostics)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_program_has_no_errors(path: Path) -> None:
    diagnostics = list(analyze(path).diagnostics)
    errors = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics if d.is_error]
    assert errors == []


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.stem)
def test_runnable_program_has_no_check_errors(path: Path) -> None:
    diagnostics = list(analyze(path).diagnostics)
    if any(d.code in ("syntax-error", "reserved-word") for d in diagnostics):
        pytest.skip("does not parse (a front-end matter, not the checker's)")
    errors = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in diagnostics if d.is_error]
    assert errors == []


RUN_ERRORS = sorted(p for p in (DATA / "run").glob("*.ai") if "# error:" in p.read_text(encoding="utf-8"))
RUN_ERROR = re.compile(r"^# error: (\d+):(\d+) (.*)$", re.M)


@pytest.mark.parametrize("path", RUN_ERRORS, ids=lambda p: p.stem)
def test_check_and_run_agree_on_position(path: Path) -> None:
    """When `n3 check` reports the very message `n3 run` fails with, it is at the same place."""
    m = RUN_ERROR.search(path.read_text(encoding="utf-8"))
    if m is None:
        pytest.skip("no positioned error")
    line, col, message = int(m.group(1)), int(m.group(2)), m.group(3)
    diagnostics = list(analyze(path).diagnostics)
    same = [d for d in diagnostics if d.message == message]
    for d in same:
        assert (d.span.line, d.span.column) == (line, col)


def test_every_check_code_is_exercised_by_the_corpus():
    """Each code the checker registers appears in some expectation (deprecated-model needs a
    registry and is covered in test_models_registry.py)."""
    from n3lang.checker import CHECK_CODES

    used = {exp[0] for path in INVALID for exp in expectations(path)}
    assert set(CHECK_CODES) - used <= {"deprecated-model"}
