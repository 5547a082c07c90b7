"""Data-driven: every program under tests/data/run/ states its expected outcome inline.

Header comment lines, before `spec is "1.0"`:
  ``# input: JSON``    the flow input (default {})
  ``# flow: NAME``     the flow to run (default: the only one)
  ``# limits: JSON``   Limits overrides, e.g. {"max_steps": 1000}
  ``# result: JSON``   the expected result (numbers compared exactly, never equal to booleans)
  ``# state: JSON``    the expected state after the run
  ``# error: LINE:COL MESSAGE``  the expected runtime error instead of a result
Programs that use models get a fake predictor for refs starting with ``demo.``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from n3lang.diagnostics import Diagnostic, DiagnosticError
from n3lang.runtime import Limits, run_flow
from n3lang.runtime.values import parse_json_text

DATA = Path(__file__).resolve().parent.parent / "data" / "run"
PROGRAMS = sorted(DATA.glob("*.ai"))


def header(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# "):
            break
        key, _, rest = line[2:].partition(": ")
        out[key] = rest
    return out


def strict_equal(a, b) -> bool:
    if a.__class__ is not b.__class__:
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    return a == b


class FakePredictor:
    def ranked(self, x):
        label = "password_reset" if "password" in x else "other"
        other = "other" if label == "password_reset" else "password_reset"
        return [(label, 0.9), (other, 0.1)]


def fake_loader(project_dir, ref):
    if ref.startswith("demo."):
        return FakePredictor()
    raise DiagnosticError([Diagnostic(code="model-not-found", message=f"No model '{ref}'")])


def test_corpus_is_large_enough():
    assert len(PROGRAMS) >= 80


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_run_program(path: Path, tmp_path: Path) -> None:
    from n3lang.syntax import parse_source

    meta = header(path)
    assert ("result" in meta) != ("error" in meta), "state exactly one of result/error"
    program, diags = parse_source(path.read_text(encoding="utf-8"), str(path))
    errors = [f"{d.span.line}:{d.span.column} {d.message}" for d in diags if d.is_error]
    assert program is not None and not errors, errors
    limits = Limits(**{k: int(v) for k, v in parse_json_text(meta["limits"]).items()}) \
        if "limits" in meta else None
    value = parse_json_text(meta["input"]) if "input" in meta else {}
    r = run_flow(program, meta.get("flow"), value, limits=limits, project_dir=tmp_path,
                 predictor_loader=fake_loader)
    if "error" in meta:
        assert not r.ok, f"expected an error, got result {r.result!r}"
        got = f"{r.error.span.line}:{r.error.span.column} {r.error.message}"
        assert got == meta["error"]
        assert r.error.file == str(path) and r.error.why and r.error.fix
        return
    assert r.ok, f"{r.error.span.line}:{r.error.span.column} {r.error.message}"
    want = parse_json_text(meta["result"])
    assert strict_equal(r.result, want), (r.result, want)
    if "state" in meta:
        assert strict_equal(r.state, parse_json_text(meta["state"])), r.state
