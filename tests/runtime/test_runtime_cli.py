"""`n3 run` end to end: exact JSON, flow selection, errors, and persistence with --state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli

COUNTER = '''spec is "1.0"

record "Note":
  text is text must be present

flow "add": requires true
  let n is 0
  if input.bump is true:
    set n is 1
  set state.count is n
  let d is map:
    "text" is input.text
  create "Note" with d as note
  find "Note" where true
  return list length of note_results
'''


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def write(tmp_path: Path, text: str) -> Path:
    app = tmp_path / "app.ai"
    app.write_text(text, encoding="utf-8")
    return app


def test_state_and_records_persist_across_runs(tmp_path: Path, state_location: str):
    app = write(tmp_path, COUNTER)
    db = state_location  # a SQLite file, then a PostgreSQL database (conftest.py)
    code, out = invoke("run", str(app), "--state", db, "--input", '{"text": "a", "bump": true}', "--json")
    assert code == 0, out
    assert json.loads(out)["result"] == 1
    code, out = invoke("run", str(app), "--state", db, "--input", '{"text": "b", "bump": false}', "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["ok"] is True and payload["result"] == 2 and payload["state"] == {"count": 0}
    # without --state nothing persists
    code, out = invoke("run", str(app), "--input", '{"text": "c", "bump": false}', "--json")
    assert json.loads(out)["result"] == 1


def test_json_numbers_are_exact(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  let a is 1 / 3\n  return list: a, 10 / 4, 1.5 * 2\n')
    code, out = invoke("run", str(app), "--json")
    assert code == 0
    assert '0.3333333333333333333333333333' in out and "2.5" in out and "3.0" not in out


def test_plain_output_and_input_file(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return "Hi " + input.name\n')
    (tmp_path / "in.json").write_text('{"name": "Ada"}')
    code, out = invoke("run", str(app), "--input", "@" + str(tmp_path / "in.json"))
    assert code == 0 and out.strip() == "Hi Ada"


def test_several_flows_need_flow_option(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "a":\n  return 1\n\nflow "b":\n  return 2\n')
    code, out = invoke("run", str(app))
    assert code == 1 and '"a", "b"' in out
    code, out = invoke("run", str(app), "--flow", "b")
    assert code == 0 and out.strip() == "2"
    code, out = invoke("run", str(app), "a")
    assert code == 0 and out.strip() == "1"


def test_runtime_error_is_rendered_with_caret(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  let x is 0\n  return 1 / x\n')
    code, out = invoke("run", str(app))
    assert code == 1
    assert "Division by zero." in out and "^" in out and "runtime-arithmetic-error" in out
    code, out = invoke("run", str(app), "--json")
    payload = json.loads(out)
    assert code == 1 and payload["ok"] is False and payload["error"]["line"] == 5


def test_bad_input_json_is_a_clear_error(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return 1\n')
    code, out = invoke("run", str(app), "--input", "{nope")
    assert code == 1 and "not valid JSON" in out


def test_input_with_an_unpaired_surrogate_is_a_clear_error(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return input.q\n')
    code, out = invoke("run", str(app), "--input", '{"q": "smile \\ud83d\\ude00"}')
    assert code == 0 and "smile \U0001f600" in out  # a proper pair is one character
    code, out = invoke("run", str(app), "--input", '{"q": "half \\ud83d"}')
    assert code == 1 and ("The input in --input is not valid JSON: \\ud83d is an unpaired UTF-16 surrogate, "
                          "not a character (line 1, column 13)") in out


CORPUS = sorted((Path(__file__).resolve().parent.parent / "data" / "run").glob("*.ai"))


@pytest.mark.parametrize("path", [p for p in CORPUS if "predict" not in p.read_text()
                                  and "ask ai" not in p.read_text()
                                  and "# limits:" not in p.read_text()],
                         ids=lambda p: p.stem)
def test_corpus_through_the_cli(path: Path):
    """Check + run end to end: programs with a result exit 0 with it; errors exit 1, never 3."""
    from n3lang.runtime.values import parse_json_text

    meta = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# "):
            break
        key, _, rest = line[2:].partition(": ")
        meta[key] = rest
    args = ["run", str(path), "--json"]
    if "input" in meta:
        args += ["--input", meta["input"]]
    if "flow" in meta:
        args += ["--flow", meta["flow"]]
    code, out = invoke(*args)
    payload = parse_json_text(out)
    if "result" in meta:
        assert code == 0 and payload["ok"] is True, out
    else:
        assert code == 1 and payload["ok"] is False
        line_col, _, message = meta["error"].partition(" ")
        first = payload["diagnostics"][0]
        assert f"{first['line']}:{first['column']}" == line_col and first["message"] == message


def test_numbers_beyond_the_runtime_and_long_integers(tmp_path: Path):
    app = write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return input\n')
    code, out = invoke("run", str(app), "--input", "1e999999999")
    assert code == 1 and ("the number 1e999999999 is beyond what this runtime holds "
                          "(magnitudes from 1e-1000026 to 1e999999)") in out
    # F16: the result must stay readable by Python's json, which stops at 4300 digits
    write(tmp_path, 'spec is "1.0"\n\nflow "f":\n  return 10 ** 4299\n')
    code, out = invoke("run", str(app), "--json")
    assert code == 0 and json.loads(out)["result"] == 10 ** 4299
    for body in ("return 10 ** 5000", "set state.n is 10 ** 999998\n  return 1"):
        write(tmp_path, f'spec is "1.0"\n\nflow "f":\n  {body}\n')
        code, out = invoke("run", str(app), "--json")
        assert code == 1, out
        error = json.loads(out)["error"]
        assert error["code"] == "runtime-limit" and "JSON readers cannot read back" in error["message"]
        assert "1E+" in error["message"] and len(out) < 5000


UPDATE_APP = '''spec is "1.0"

record "Item":
  n is number must be at most 5
  tag is text must be unique

flow "seed" requires true:
  let a is map:
    n is 4
    tag is "a"
  let b is map:
    n is 5
    tag is "b"
  let c is map:
    n is 4
    tag is "c"
  create "Item" with a as x
  create "Item" with b as y
  create "Item" with c as z
  return "seeded"

flow "bump" requires true:
  try:
    update "Item" where true set:
      n is n + 1
  with catch err:
    return err.message
  return "ok"

flow "same_tag" requires true:
  try:
    update "Item" where n is less than 5 set:
      tag is "same"
  with catch err:
    return err.message
  return "ok"

flow "all":
  find "Item" where true
  return item_results
'''


def test_an_update_that_fails_on_one_row_changes_no_row(tmp_path: Path, state_location: str):
    app = write(tmp_path, UPDATE_APP)
    state = state_location
    assert invoke("run", str(app), "seed", "--state", state)[0] == 0
    code, out = invoke("run", str(app), "bump", "--state", state)
    assert code == 0 and out.strip() == "Field 'n' in record 'Item' must be at most 5"
    code, out = invoke("run", str(app), "same_tag", "--state", state)  # two rows, one unique tag
    assert code == 0 and out.strip() == "Field 'tag' in record 'Item' must be unique"
    code, out = invoke("run", str(app), "all", "--state", state, "--json")
    assert [(r["n"], r["tag"]) for r in json.loads(out)["result"]] == [(4, "a"), (5, "b"), (4, "c")]
