"""Hand-edited rows in a --state store are a clean state error (exit 1) naming the row, never an
internal error; the store is left as it was. Each test runs against a SQLite file and a PostgreSQL
database (conftest.py) where that database can hold the row at all (its columns are typed)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.runtime.records import StoreError, open_store

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


class Backend:
    """A --state location and raw SQL on it (statements written with ? placeholders)."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.postgres = location.startswith("postgresql://")

    def sql(self, statement: str, *params) -> None:
        if self.postgres:
            import psycopg

            with psycopg.connect(self.location, autocommit=True) as con:
                con.execute(statement.replace("?", "%s"), params)
            return
        con = sqlite3.connect(self.location)
        with con:
            con.execute(statement, params)
        con.close()

    def snapshot(self):
        """Everything the store holds, to see that a failed run changed nothing."""
        if not self.postgres:
            return Path(self.location).read_bytes()
        import psycopg

        with psycopg.connect(self.location) as con:
            return (con.execute("SELECT * FROM n3_state ORDER BY key").fetchall(),
                    con.execute("SELECT * FROM n3_records ORDER BY record, id").fetchall())


@pytest.fixture
def state(tmp_path: Path, state_location: str):
    app = tmp_path / "app.ai"
    app.write_text(APP)
    code, out = invoke("run", str(app), "--state", state_location, "--json")
    assert code == 0, out
    assert json.loads(out)["result"] == 1
    return app, Backend(state_location)


@pytest.fixture
def sqlite_state(tmp_path: Path):
    """Rows only SQLite can hold (its columns take any type)."""
    app = tmp_path / "app.ai"
    app.write_text(APP)
    db = tmp_path / "s.db"
    code, out = invoke("run", str(app), "--state", str(db), "--json")
    assert code == 0 and json.loads(out)["result"] == 1, out
    return app, Backend(str(db))


def run_fails(app: Path, db: Backend, *needles: str) -> dict:
    before = db.snapshot()
    code, out = invoke("run", str(app), "--state", db.location, "--json")
    assert code == 1, out
    payload = json.loads(out)
    assert payload["ok"] is False
    diag = payload["diagnostics"][0] if "diagnostics" in payload else payload["error"]
    assert diag["code"] in ("runtime-record-error", "runtime-state-error"), diag
    for needle in needles:
        assert needle in diag["message"], diag["message"]
    assert diag["why"] and diag["fix"]
    assert db.snapshot() == before, "a failed run changed the state store"
    return diag


@pytest.mark.parametrize("data, needle", [
    ("[1,2]", "its data is a JSON list, not a JSON object of fields"),
    ('"s"', "its data is text, not a JSON object"),
    ("true", "its data is a JSON boolean, not a JSON object"),
    (5, "its data is a JSON number, not a JSON object"),  # the TEXT column stores it as '5'
    (1.5, "its data is a JSON number, not a JSON object"),
    ("{", "its data is not valid JSON"),
    ("[" * 100000 + "]" * 100000, "its data is not valid JSON"),
])
def test_bad_data(state, data, needle):
    app, db = state
    if db.postgres:
        data = str(data)  # a text column: the number as SQLite's TEXT column stores it
    db.sql("UPDATE n3_records SET data = ?", data)
    where = "DELETE FROM n3_records WHERE record = 'Item' AND id = 1"
    diag = run_fails(app, db, "damaged row in table n3_records", "record 'Item', id 1", needle, where)
    if db.postgres:
        assert f"state database '{db.location}'" in diag["message"]
        assert f'psql {db.location} -c "{where}"' in diag["message"] and "the database was edited" in diag["message"]
    else:
        assert f"state file '{db.location}'" in diag["message"] and "the file was edited" in diag["message"]


def test_blob_data(sqlite_state):
    app, db = sqlite_state
    db.sql("UPDATE n3_records SET data = ?", b"\x00")
    run_fails(app, db, "damaged row in table n3_records", "its data is a blob, not JSON text")


@pytest.mark.parametrize("rid, needle", [("abc", "its id is text, not an integer"),
                                         (2.5, "its id is a real number, not an integer")])
def test_bad_id(sqlite_state, rid, needle):
    app, db = sqlite_state
    db.sql("UPDATE n3_records SET id = ?", rid)
    run_fails(app, db, "damaged row in table n3_records", needle, "DELETE FROM n3_records WHERE")


def test_highest_id_leaves_no_next_id(state):
    app, db = state
    db.sql("UPDATE n3_records SET id = ?", 2 ** 63 - 1)
    largest = "the largest a PostgreSQL bigint can hold" if db.postgres else "the largest SQLite can hold"
    run_fails(app, db, "cannot create another 'Item'", f"highest id is {2 ** 63 - 1}", largest, "no next id")


def test_bad_state_value(sqlite_state):
    app, db = sqlite_state
    db.sql("INSERT OR REPLACE INTO n3_state (key, value) VALUES ('state', ?)", b"\x00")
    run_fails(app, db, "damaged row in table n3_state", "its value is a blob, not JSON text")


def test_state_that_is_not_json(state):
    app, db = state
    db.sql("UPDATE n3_state SET value = ? WHERE key = 'state'", "{")
    where = "state database" if db.postgres else "state file"
    run_fails(app, db, f"Cannot read {where} '{db.location}': ")


def test_large_and_negative_ids_still_work(state):
    app, db = state
    db.sql("UPDATE n3_records SET id = ?", 2 ** 63 - 2)
    code, out = invoke("run", str(app), "--state", db.location, "--json")
    assert code == 0 and json.loads(out)["result"] == 2, out
    db.sql("DELETE FROM n3_records WHERE id = ?", 2 ** 63 - 1)
    db.sql("UPDATE n3_records SET id = -5")
    code, out = invoke("run", str(app), "--state", db.location, "--json")
    assert code == 0 and json.loads(out)["result"] == 2, out


def test_store_reports_bad_rows_directly(state_location):
    store = open_store(state_location)
    store.insert("Item", {"name": "x"})
    store.commit()
    store.close()
    Backend(state_location).sql("UPDATE n3_records SET data = '[1]'")
    store = open_store(state_location)
    with pytest.raises(StoreError, match="not a JSON object of fields"):
        store.scan("Item")
    store.close()
