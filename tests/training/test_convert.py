"""State export -> training JSONL: the script, `n3 dataset convert` and the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.diagnostics import DiagnosticError
from n3lang.training.convert import convert_state_export

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "convert_state_to_training_dataset.py"


def write(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("wrap", [lambda r: r, lambda r: {"records": r}, lambda r: {"rows": r, "meta": {"n": 2}}])
def test_accepted_shapes(tmp_path: Path, wrap) -> None:
    records = [{"input": "I forgot my password", "target": "password_reset"},
               {"input": "Where is my parcel?", "target": "shipping"}]
    src = write(tmp_path / "state.json", wrap(records))
    result = convert_state_export(src, tmp_path / "out.jsonl")
    assert result.rows == 2
    assert (tmp_path / "out.jsonl").read_bytes() == (
        b'{"input": "I forgot my password", "target": "password_reset"}\n'
        b'{"input": "Where is my parcel?", "target": "shipping"}\n'
    )


def test_aliases_nesting_normalisation(tmp_path: Path) -> None:
    records = [
        {"id": 2, "question": "  Cafe\u0301 closed?  ", "category": "hours", "answer": "We open at 9."},
        {"id": 1, "data": {"question": "Refund please", "category": "refund"}},
        {"id": 3, "question": "Order 12", "category": 12},
    ]
    src = write(tmp_path / "state.json", records)
    result = convert_state_export(src, tmp_path / "out.jsonl")
    assert (result.input_field, result.target_field) == ("question", "category")
    assert lines(tmp_path / "out.jsonl") == [
        {"input": "Café closed?", "target": "hours"},
        {"input": "Refund please", "target": "refund"},
        {"input": "Order 12", "target": "12"},
    ]


@pytest.mark.parametrize("a,b", [("text", "label"), ("message", "category"), ("question", "answer")])
def test_common_alias_pairs(tmp_path: Path, a: str, b: str) -> None:
    src = write(tmp_path / "s.json", [{a: "hello there", b: "x"}, {a: "bye now", b: "y"}])
    result = convert_state_export(src, tmp_path / "o.jsonl")
    assert (result.input_field, result.target_field) == (a, b)


def test_explicit_fields_and_dotted_paths(tmp_path: Path) -> None:
    src = write(tmp_path / "s.json", {"records": [
        {"ticket": {"subject": "Card declined", "queue": "billing"}, "label": "ignored"},
        {"ticket": {"subject": "Lost parcel", "queue": "shipping"}, "label": "ignored"},
    ]})
    result = convert_state_export(src, tmp_path / "o.jsonl", input_field="ticket.subject", target_field="ticket.queue")
    assert result.targets == {"billing": 1, "shipping": 1}
    assert lines(tmp_path / "o.jsonl")[0] == {"input": "Card declined", "target": "billing"}


def test_every_problem_reported_with_lines_and_nothing_written(tmp_path: Path) -> None:
    src = write(tmp_path / "s.json", '[\n  {"question": "ok", "category": "a"},\n  {"question": "", "category": "b"},\n'
                '  {"category": "c"},\n  "oops",\n  {"question": ["x"], "category": "d"}\n]\n')
    out = tmp_path / "o.jsonl"
    with pytest.raises(DiagnosticError) as info:
        convert_state_export(src, out)
    diags = info.value.diagnostics
    assert [d.span.line for d in diags] == [3, 4, 5, 6]
    assert all(d.code == "convert-record-invalid" and d.why and d.fix and d.example for d in diags)
    assert "empty" in diags[0].message and "no `question`" in diags[1].message
    assert "string, not an object" in diags[2].message and "list" in diags[3].message
    assert not out.exists() and list(tmp_path.iterdir()) == [src]


def test_existing_output_is_kept_on_failure(tmp_path: Path) -> None:
    out = write(tmp_path / "o.jsonl", "keep me\n")
    src = write(tmp_path / "s.json", {"items": []})
    with pytest.raises(DiagnosticError) as info:
        convert_state_export(src, out)
    assert "without a `records` or `rows` list" in info.value.diagnostics[0].message
    assert out.read_text() == "keep me\n"


@pytest.mark.parametrize("text,needle", [
    ('{"a": 1', "not valid JSON"),
    ('"just a string"', "holds a string"),
    ('{"records": 3}', "not a list of records"),
    ("[]", "no records"),
    ('[{"foo": 1, "bar": 2}]', "cannot tell which field"),
    ('[{"question": "a\\udfff", "answer": "x"}]', "\\udfff is an unpaired UTF-16 surrogate, not a character"),
])
def test_malformed_exports(tmp_path: Path, text: str, needle: str) -> None:
    src = write(tmp_path / "s.json", text)
    with pytest.raises(DiagnosticError) as info:
        convert_state_export(src, tmp_path / "o.jsonl")
    assert needle in info.value.diagnostics[0].message


def test_missing_input(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        convert_state_export(tmp_path / "nope.json", tmp_path / "o.jsonl")
    assert info.value.diagnostics[0].code == "convert-input-missing"


def test_deterministic_bytes(tmp_path: Path) -> None:
    records = [{"target": "b", "input": "zeta"}, {"input": "alpha", "target": "a", "extra": 1}]
    src = write(tmp_path / "s.json", records)
    convert_state_export(src, tmp_path / "1.jsonl")
    convert_state_export(src, tmp_path / "2.jsonl")
    assert (tmp_path / "1.jsonl").read_bytes() == (tmp_path / "2.jsonl").read_bytes()


def test_cli_dataset_convert(tmp_path: Path) -> None:
    src = write(tmp_path / "s.json", {"records": [{"text": "hi", "label": "greet"}, {"text": "bye", "label": "leave"}]})
    runner = CliRunner()
    res = runner.invoke(cli, ["dataset", "convert", "--input", str(src), "--output", str(tmp_path / "o.jsonl"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"] == 2
    res = runner.invoke(cli, ["dataset", "convert", "--input", str(tmp_path / "nope.json"), "--output", "x.jsonl"])
    assert res.exit_code == 1
    assert "What happened" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["dataset", "convert", "--input", str(src)])
    assert res.exit_code == 2


def test_script_from_repo_root(tmp_path: Path) -> None:
    src = write(tmp_path / "state_records.json", [{"message": "card declined", "category": "billing"},
                                                   {"message": "where is it", "category": "shipping"}])
    out = tmp_path / "data" / "support_tickets.jsonl"
    env = dict(os.environ, PYTHONPATH="")
    proc = subprocess.run([sys.executable, "scripts/convert_state_to_training_dataset.py", "--input", str(src),
                           "--output", str(out)], cwd=REPO, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert lines(out) == [{"input": "card declined", "target": "billing"}, {"input": "where is it", "target": "shipping"}]
    proc = subprocess.run([sys.executable, str(SCRIPT), "--input", str(tmp_path / "missing.json"), "--output", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "Fix:" in proc.stderr


EXAMPLE = REPO / "examples" / "supportbot" / "data"


def test_example_state_export_converts_to_the_example_dataset(tmp_path: Path) -> None:
    result = convert_state_export(EXAMPLE / "state_records.json", tmp_path / "support_tickets.jsonl")
    assert (result.input_field, result.target_field) == ("message", "category")
    assert result.rows == 400 and len(result.targets) == 8
    assert (tmp_path / "support_tickets.jsonl").read_bytes() == (EXAMPLE / "support_tickets.jsonl").read_bytes()


def test_example_generator_reproduces_committed_files(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLE / "generate_tickets.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in ("support_tickets.jsonl", "state_records.json"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_output_that_must_not_be_replaced_is_refused(tmp_path: Path) -> None:
    import os

    src = write(tmp_path / "s.json", [{"input": "a", "target": "x"}, {"input": "b", "target": "y"}])
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for out, needle in ((fifo, "is not a regular file"), (src, "is the input export itself"),
                        (tmp_path, "is a directory")):
        with pytest.raises(DiagnosticError) as info:
            convert_state_export(src, out)
        d = info.value.diagnostics[0]
        assert d.code == "convert-output-invalid" and needle in d.message
    assert fifo.exists() and not fifo.is_file()  # still the pipe
    assert json.loads(src.read_text())[0] == {"input": "a", "target": "x"}  # the export is untouched
