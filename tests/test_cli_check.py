"""`n3 check` and `n3 reserved` end to end through click, with golden outputs.

Golden files live in tests/data/golden/check/: ``<case>.txt`` is the human output and
``<case>.json`` the ``--json`` output of checking ``tests/data/invalid/<case>.ai`` (run from
the repository root, so paths are relative). Regenerate with ``N3_UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.resources import load_schema

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden" / "check"
UPDATE = os.environ.get("N3_UPDATE_GOLDEN") == "1"

GOLDEN_CASES = [
    "unknown_capability_typo",
    "set_undeclared",
    "model_without_training",
    "many_errors_at_once",
    "unused_capability_notes",
    "mutation_without_requires",
    "hosted_ai_model",
    "arithmetic_types",
]


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.chdir(ROOT)
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result


def compare_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_human(runner, case):
    result = invoke(runner, "check", f"tests/data/invalid/{case}.ai")
    compare_golden(f"{case}.txt", result.output)


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_json_and_schema(runner, case):
    result = invoke(runner, "check", f"tests/data/invalid/{case}.ai", "--json")
    payload = json.loads(result.output)
    jsonschema.validate(payload, load_schema("diagnostics"))
    compare_golden(f"{case}.json", result.output)


def test_exit_codes(runner, tmp_path):
    ok = tmp_path / "ok.ai"
    ok.write_text('spec is "1.0"\n\nflow "demo":\n  return "ok"\n')
    result = invoke(runner, "check", str(ok))
    assert result.exit_code == 0
    assert result.output.strip().endswith(f"{ok}: ok")

    warn = tmp_path / "warn.ai"
    warn.write_text('spec is "1.0"\n\nflow "demo":\n  return 1\n  return 2\n')
    result = invoke(runner, "check", str(warn))
    assert result.exit_code == 0
    assert result.output.strip().endswith(f"{warn}: ok (1 warning)")

    # (`set` on an undeclared name is only a warning: it fails at run time, LANGUAGE.md §8)
    result = invoke(runner, "check", "tests/data/invalid/set_undeclared.ai")
    assert result.exit_code == 0
    result = invoke(runner, "check", "tests/data/invalid/duplicate_flow.ai")
    assert result.exit_code == 1
    assert result.output.strip().endswith("failed (1 error)")

    result = invoke(runner, "check", "--bogus")
    assert result.exit_code == 2


def test_default_app_is_app_ai(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.ai").write_text('spec is "1.0"\n\nflow "demo":\n  return "ok"\n')
    result = invoke(runner, "check")
    assert result.exit_code == 0
    assert result.output.strip() == "app.ai: ok"


def test_missing_file_is_a_clear_error(runner, tmp_path):
    missing = tmp_path / "nope.ai"
    result = invoke(runner, "check", str(missing))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "nope.ai" in result.output
    result = invoke(runner, "check", str(missing), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    jsonschema.validate(payload, load_schema("diagnostics"))
    assert payload and payload[0]["severity"] == "error"


def test_json_of_clean_app_is_empty_list(runner, tmp_path):
    ok = tmp_path / "ok.ai"
    ok.write_text('spec is "1.0"\n\nflow "demo":\n  return "ok"\n')
    result = invoke(runner, "check", str(ok), "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_reserved(runner):
    result = invoke(runner, "reserved")
    assert result.exit_code == 0
    words = result.output.split()
    assert words == sorted(words)
    assert {"let", "is", "flow", "spec"} <= set(words)
    for common in ("count", "item", "result", "value", "total", "update", "delete", "requires"):
        assert common not in words
    result = invoke(runner, "reserved", "--json")
    assert json.loads(result.output) == words


def test_subprocess_entry_point(tmp_path):
    """The installed console script gives the same verdict (one real process, for exit codes)."""
    import subprocess
    import sys

    app = ROOT / "tests" / "data" / "invalid" / "duplicate_flow.ai"
    proc = subprocess.run(
        [sys.executable, "-m", "n3lang.cli.main", "check", str(app), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)[0]["code"] == "duplicate-flow"


def test_syntax_errors_are_reported_by_check(runner, tmp_path):
    bad = tmp_path / "bad.ai"
    bad.write_text('spec is "1.0"\n\nflow "demo":\n  let x is ^\n')
    result = invoke(runner, "check", str(bad), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.output)
    jsonschema.validate(payload, load_schema("diagnostics"))
    assert payload[0]["line"] == 4
    result = invoke(runner, "check", str(bad))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.rstrip().endswith("failed (1 error)")


@pytest.mark.parametrize("case", ["hosted_ai_model", "arithmetic_types", "unreachable_after_return"])
def test_warnings_only_exit_zero(runner, case):
    result = invoke(runner, "check", f"tests/data/invalid/{case}.ai")
    assert result.exit_code == 0
    assert ": ok (" in result.output.rstrip().splitlines()[-1]
