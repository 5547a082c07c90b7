"""Hand-edited rows in a --state SQLite file are a clean state error (exit 1) naming the row,
never an internal error; the file is left as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.runtime.records import SQLiteStore, StoreError

APP = '''spec is "1.0"

record "Item":
  name is text

flow "add": requires true
  let d is map:
    name is "x"
  create "Item" with d as item
  find "Item" where true
  return list length of item_results
'''


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def state(tmp_path: Path):
    app = tmp_path / "app.ai"
    app.write_text(APP)
    db = tmp_path / "s.db"
    code, out = invoke("run", str(app), "--state", str(db), "--json")
    assert code == 0, out
    assert json.loads(out)["result"] == 1
    return app, db


def sql(db: Path, statement: str, *params) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute(statement, params)
    con.close()


def run_fails(app: Path, db: Path, *needles: str) -> dict:
    before = db.read_bytes()
    code, out = invoke("run", str(app), "--state", str(db), "--json")
    assert code == 1, out
    payload = json.loads(out)
    assert payload["ok"] is False
    diag = payload["diagnostics"][0] if "diagnostics" in payload else payload["error"]
    assert diag["code"] in ("runtime-record-error", "runtime-state-error"), diag
    for needle in needles:
        assert needle in diag["message"], diag["message"]
    assert diag["why"] and diag["fix"]
    assert db.read_bytes() == before, "a failed run changed the state file"
    return diag


@pytest.mark.parametrize("data, needle", [
    ("[1,2]", "its data is a JSON list, not a JSON object of fields"),
    ('"s"', "its data is text, not a JSON object"),
    ("true", "its data is a JSON boolean, not a JSON object"),
    (5, "its data is a JSON number, not a JSON object"),  # the TEXT column stores it as '5'
    (1.5, "its data is a JSON number, not a JSON object"),
    (b"\x00", "its data is a blob, not JSON text"),
    ("{", "its data is not valid JSON"),
    ("[" * 100000 + "]" * 100000, "its data is not valid JSON"),
])
def test_bad_data(state, data, needle):
    app, db = state
    sql(db, "UPDATE n3_records SET data = ?", data)
    diag = run_fails(app, db, "damaged row in table n3_records", "record 'Item', id 1", needle,
                     "DELETE FROM n3_records WHERE record = 'Item' AND id = 1")
    assert str(db) in diag["message"]


@pytest.mark.parametrize("rid, needle", [("abc", "its id is text, not an integer"),
                                         (2.5, "its id is a real number, not an integer")])
def test_bad_id(state, rid, needle):
    app, db = state
    sql(db, "UPDATE n3_records SET id = ?", rid)
    run_fails(app, db, "damaged row in table n3_records", needle, "DELETE FROM n3_records WHERE")


def test_highest_id_leaves_no_next_id(state):
    app, db = state
    sql(db, "UPDATE n3_records SET id = ?", 2 ** 63 - 1)
    run_fails(app, db, "cannot create another 'Item'", f"highest id is {2 ** 63 - 1}", "no next id")


def test_bad_state_value(state):
    app, db = state
    sql(db, "INSERT OR REPLACE INTO n3_state (key, value) VALUES ('state', ?)", b"\x00")
    run_fails(app, db, "damaged row in table n3_state", "its value is a blob, not JSON text")


def test_large_and_negative_ids_still_work(state):
    app, db = state
    sql(db, "UPDATE n3_records SET id = ?", 2 ** 63 - 2)
    code, out = invoke("run", str(app), "--state", str(db), "--json")
    assert code == 0 and json.loads(out)["result"] == 2, out
    sql(db, "DELETE FROM n3_records WHERE id = ?", 2 ** 63 - 1)
    sql(db, "UPDATE n3_records SET id = -5")
    code, out = invoke("run", str(app), "--state", str(db), "--json")
    assert code == 0 and json.loads(out)["result"] == 2, out


def test_store_reports_bad_rows_directly(tmp_path):
    db = tmp_path / "s.db"
    store = SQLiteStore(str(db))
    store.insert("Item", {"name": "x"})
    store.commit()
    store.close()
    sql(db, "UPDATE n3_records SET data = '[1]'")
    store = SQLiteStore(str(db))
    with pytest.raises(StoreError, match="not a JSON object of fields"):
        store.scan("Item")
    store.close()
