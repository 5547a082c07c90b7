"""The one renderer's header: a problem with a place in a file says FILE:LINE:COL; a problem
without one says plainly where it is (a file, the command line, an option, nowhere) and never
pretends to be at line 1, column 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.diagnostics import INTERNAL_ERROR, Diagnostic, render
from n3lang.span import UNKNOWN, Span


@pytest.mark.parametrize("file,span,header", [
    ("app.ai", Span(3, 5, 3, 9), "app.ai:3:5: error: boom [internal-error]"),
    ("app.ai", Span(1, 1, 1, 2), "app.ai:1:1: error: boom [internal-error]"),  # a real place at 1:1
    ("<input>", Span(2, 4, 2, 5), "<input>:2:4: error: boom [internal-error]"),  # parsed text, placed
    ("models_registry.yaml", UNKNOWN, "models_registry.yaml: error: boom [internal-error]"),
    ("<command line>", UNKNOWN, "command line: error: boom [internal-error]"),
    ("--flow", UNKNOWN, "command line (--flow): error: boom [internal-error]"),
    ("<input>", UNKNOWN, "error: boom [internal-error]"),
])
def test_header_names_the_place(file, span, header):
    text = render(Diagnostic(INTERNAL_ERROR, "boom", file, span), "first line\nsecond line\nthird line\n")
    assert text.splitlines()[0] == header


def test_no_source_line_or_caret_without_a_place():
    text = render(Diagnostic(INTERNAL_ERROR, "boom", "app.ai", UNKNOWN), "spec is \"1.0\"\n")
    assert "|" not in text and "^" not in text
    assert render(Diagnostic(INTERNAL_ERROR, "boom", "app.ai", Span(1, 1, 1, 5)), "spec is \"1.0\"\n").splitlines()[1:3] \
        == ['   1 | spec is "1.0"', "     | ^~~~"]


def test_a_bad_flag_is_reported_on_the_command_line(tmp_path: Path, monkeypatch):
    (tmp_path / "app.ai").write_text('spec is "1.0"\n\ncapabilities:\n  training\n\nflow "demo":\n  return "ok"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["train", "--model-base", "text-base", "--dataset", "rows.jsonl",
                                      "--output-name", "demo", "--epochs", "0"])
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first == "command line: error: `epochs` must be at least 1 (and at most 10000), got 0 [config-invalid-value]"
    assert "<command line>" not in result.stderr and ":1:1:" not in result.stderr
