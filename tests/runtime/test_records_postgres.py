"""Records on PostgreSQL (`n3 run --state postgresql://…`, issue 16): the same bytes as SQLite, one
transaction per run, no record lost or duplicated under 8 concurrent processes, and clear errors
(bad URL, no server, wrong password, wrong or uncreatable tables, no psycopg) that never show the
password. The server is a real one (conftest.py, pg_server.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pg_server
import pg_workload
import pytest
from click.testing import CliRunner

from n3lang.cli.main import cli
from n3lang.runtime import run_flow
from n3lang.runtime.records import open_store
from n3lang.runtime.records_pg import redact
from n3lang.runtime.values import dumps

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "tests" / "conformance"
RECORD_STATEMENT = re.compile(r'^\s*(create|find|update|delete|save) "', re.M)


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def write_app(tmp_path: Path, text: str) -> Path:
    app = tmp_path / "app.ai"
    app.write_text(text, encoding="utf-8")
    return app


def admin(url: str, *statements: str) -> list:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        rows: list = []
        for statement in statements:
            cur = con.execute(statement)
            rows = cur.fetchall() if cur.description else []
        return rows


def tables(url: str) -> list:
    return admin(url, "SELECT to_regclass('n3_state')::text, to_regclass('n3_records')::text")[0]


def snapshot(url: str):
    return admin(url, "SELECT * FROM n3_state ORDER BY key"), admin(url, "SELECT * FROM n3_records ORDER BY record, id")


# ------------------------------------------------------------------ the same bytes as SQLite
def _record_programs() -> list:
    """(id, app path, flow, input, env) of every program that uses records: the conformance corpus
    (with its sidecars) and tests/data/run (with its # flow: / # input: lines)."""
    sys.path.insert(0, str(CONFORMANCE))
    try:
        import conformance_harness as H
    finally:
        sys.path.remove(str(CONFORMANCE))
    out = []
    for name in H.program_names():
        path = H.program_path(name)
        if (RECORD_STATEMENT.search(path.read_text(encoding="utf-8")) and (H.EXPECTED / f"{name}.json").exists()
                and H.read_expected(name).get("phase") != "load"):  # one that does not check never runs
            out.append((name, name, H.read_expected(name).get("flow"), H.read_input(name), H.program_env(name)))
    for path in sorted((ROOT / "tests" / "data" / "run").glob("*.ai")):
        text = path.read_text(encoding="utf-8")
        if not RECORD_STATEMENT.search(text) or "ask ai" in text or "predict" in text or not _checks(path):
            continue
        meta = dict(line[2:].partition(": ")[::2] for line in text.splitlines() if line.startswith("# "))
        value = json.loads(meta["input"]) if "input" in meta else {}
        out.append((f"run/{path.stem}", str(path), meta.get("flow"), value, {}))
    return out


def _checks(path: Path) -> bool:
    """Whether `n3 run` gets as far as running the app (one that does not check never runs)."""
    from n3lang.checker import check_program
    from n3lang.syntax.loader import load_project

    project = load_project(str(path))
    return project.program is not None and not any(
        d.is_error for d in [*project.diagnostics, *check_program(project.program, project_dir=path.parent)])


PROGRAMS = _record_programs()


@pytest.fixture(scope="module")
def shared_url(pg):
    """One database for the module's programs, emptied before each."""
    name = pg.new_database("same")
    yield pg.url(name)
    pg.drop_database(name)


def _runs(program, app: Path, flow, value, identity, location: str) -> str:
    """Two runs of the flow (the second sees the first's records and state) and then every stored
    record, as the exact JSON `n3 run --json` would print."""
    from n3lang import ast as A

    outcomes = [run_flow(program, flow, value, state_path=location, project_dir=app.parent,
                         identity=identity).to_json() for _ in range(2)]
    store = open_store(location)
    try:
        rows = {decl.name: store.scan(decl.name) for decl in program.of_type(A.RecordDecl)}
    finally:
        store.close()
    return dumps({"runs": outcomes, "rows": {k: [[i, d] for i, d in v] for k, v in rows.items()}})


def test_the_corpus_has_record_programs():
    assert len(PROGRAMS) >= 80, len(PROGRAMS)


@pytest.mark.parametrize("case", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_same_bytes_as_sqlite(case, shared_url, tmp_path, monkeypatch):
    """Every record program of the corpus, run twice on each store: the same results, errors,
    state, traces and stored rows (ids included), byte for byte."""
    from n3lang.checker import check_program
    from n3lang.cli.run_cmd import read_identity
    from n3lang.syntax.loader import load_project

    label, where, flow, value, env = case
    app = Path(where)
    if not app.is_absolute():  # a conformance program: run a copy of a folder program
        sys.path.insert(0, str(CONFORMANCE))
        try:
            import conformance_harness as H
        finally:
            sys.path.remove(str(CONFORMANCE))
        app = H.copy_program(where, tmp_path / where) if H.program_dir(where) else H.program_path(where)
    for key, val in env.items():
        if not key.startswith("N3_IDENTITY_"):
            monkeypatch.setenv(key, val)
    identity, problem = read_identity(None, environ=env)
    assert problem is None
    project = load_project(app)
    program = project.program
    assert program is not None
    assert not [d for d in check_program(program, project_dir=app.parent) if d.is_error]
    admin(shared_url, "DROP TABLE IF EXISTS n3_state, n3_records")
    on_sqlite = _runs(program, app, flow, value, identity, str(tmp_path / "state.db"))
    on_postgres = _runs(program, app, flow, value, identity, shared_url)
    assert on_postgres == on_sqlite


def test_find_is_in_id_order_after_updates_and_deletes(tmp_path, state_location):
    """Updated rows move in a PostgreSQL table; finds still come in id order, and a new id is one
    more than the highest one, as in SQLite."""
    app = write_app(tmp_path, '''spec is "1.0"

record "Item":
  name is text

flow "seed": requires true
  create "Item" with map:
    name is "a"
  as a
  create "Item" with map:
    name is "b"
  as b
  create "Item" with map:
    name is "c"
  as c
  return "ok"

flow "churn": requires true
  update "Item" where name is "a" set:
    name is "a2"
  delete "Item" where name is "b"
  create "Item" with map:
    name is "d"
  as d
  update "Item" where name is "c" set:
    name is "c2"
  find "Item" where true
  return item_results
''')
    assert invoke("run", str(app), "seed", "--state", state_location)[0] == 0
    code, out = invoke("run", str(app), "churn", "--state", state_location, "--json")
    assert code == 0, out
    assert json.loads(out)["result"] == [{"_id": 1, "name": "a2"}, {"_id": 3, "name": "c2"},
                                         {"_id": 4, "name": "d"}]


# ------------------------------------------------------------------ one transaction per run
FAILING = '''spec is "1.0"

record "Item":
  name is text must be unique

flow "ok": requires true
  set state.n is 1
  create "Item" with map:
    name is "kept"
  as item
  return item._id

flow "boom": requires true
  set state.n is 2
  create "Item" with map:
    name is "doomed"
  as item
  update "Item" where name is "kept" set:
    name is "changed"
  let zero is 0
  return 1 / zero
'''


def test_a_failed_run_leaves_nothing_behind(tmp_path, pg_url):
    app = write_app(tmp_path, FAILING)
    code, out = invoke("run", str(app), "boom", "--state", pg_url)
    assert code == 1 and "Division by zero." in out
    assert tables(pg_url) == (None, None)  # not even the tables it created
    assert invoke("run", str(app), "ok", "--state", pg_url)[0] == 0
    before = snapshot(pg_url)
    assert before == ([("state", '{"n": 1}')], [("Item", 1, '{"name": "kept"}')])
    code, out = invoke("run", str(app), "boom", "--state", pg_url)
    assert code == 1 and "Division by zero." in out
    assert snapshot(pg_url) == before
    code, out = invoke("run", str(app), "ok", "--state", pg_url)  # the unique name is still taken
    assert code == 1 and "Field 'name' in record 'Item' must be unique" in out
    assert snapshot(pg_url) == before


def test_a_run_waits_for_another_and_then_gives_up_as_busy(tmp_path, pg_url, monkeypatch):
    """A run holds its store's lock until it ends: another run waits BUSY_TIMEOUT, then fails
    saying so; once the first run has finished, the next one goes through."""
    from n3lang.runtime import records

    app = write_app(tmp_path, FAILING)
    assert invoke("run", str(app), "ok", "--state", pg_url)[0] == 0
    assert records.BUSY_TIMEOUT >= 5
    monkeypatch.setattr(records, "BUSY_TIMEOUT", 0.3)
    holder = open_store(pg_url)  # an unfinished run
    try:
        code, out = invoke("run", str(app), "ok", "--state", pg_url, "--json")
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "runtime-state-error"
    assert error["message"] == (f"Cannot use state database '{pg_url}': another n3 run is using it (PostgreSQL: "
                                "canceling statement due to lock timeout, after waiting 0.3 s); retry when that run "
                                "has finished")
    code, out = invoke("run", str(app), "ok", "--state", pg_url)
    assert code == 1 and "must be unique" in out  # it ran: the name was taken by the first run


def test_concurrent_runs_lose_and_duplicate_nothing(pg_url):
    """8 processes at once, each running the workload flow (create, update, a unique claim, and a
    failing run every 10th): every record exactly once, ids 1..n, no lost update, each unique
    slot claimed once, nothing left by a failed run. bench/pg_concurrency.py runs 8 x 200."""
    runs = 30
    pg_workload.init(pg_url)
    outcomes, _ = pg_workload.run_workers(pg_url, 8, runs)
    figures = pg_workload.check(pg_url, outcomes, runs)
    assert figures == {
        "runs": 240, "succeeded": 216, "failed_on_purpose": 24, "records": 216 + 18, "tickets": 216,
        "duplicates": 0, "lost": 0, "left_by_failed_runs": 0, "ids_not_1_to_n": 0, "lost_updates": 0,
        "slots": 18,  # slots 9 and 19 are only ever claimed by runs that fail
        "slot_violations": 0, "unexpected_errors": 0,
    }


# ------------------------------------------------------------------ errors
APP = 'spec is "1.0"\n\nrecord "Item":\n  name is text\n\nflow "add": requires true\n' \
      '  create "Item" with map:\n    name is "x"\n  as item\n  return item._id\n'


def run_error(tmp_path: Path, url: str) -> dict:
    """Run APP with --state url, plain and --json: exit 1 both ways, no traceback, the password
    nowhere; the --json error."""
    app = write_app(tmp_path, APP)
    code, plain = invoke("run", str(app), "--state", url)
    assert code == 1, plain
    assert "Traceback" not in plain and pg_server.PASSWORD not in plain
    code, out = invoke("run", str(app), "--state", url, "--json")
    assert code == 1 and pg_server.PASSWORD not in out, out
    error = json.loads(out)["error"]
    assert error["why"] and error["fix"]
    if error["code"].startswith("runtime-state"):  # a problem of the store itself, not of a statement
        assert error["file"] == redact(url)
    assert error["message"] in plain
    return error


@pytest.mark.parametrize("url, message", [
    ("postgresql://n3@localhost:abc/db", "its port 'abc' is not a number from 1 to 65535"),
    ("postgresql://n3@localhost:70000/db", "its port '70000' is not a number from 1 to 65535"),
    ("postgresql://n3@localhost/db?colour=blue", 'it is not a valid PostgreSQL URL: invalid URI query parameter: "colour"'),
    (f"postgresql://n3:{pg_server.PASSWORD}%zz@localhost/db",
     'it is not a valid PostgreSQL URL: invalid percent-encoded token: "***"'),
    (f"postgresql://n3:{pg_server.PASSWORD}@[::1/db",  # libpq's own message quotes the whole URL
     'it is not a valid PostgreSQL URL: end of string reached when looking for matching "]" in IPv6 host '
     'address in URI: "postgresql://n3:***@[::1/db"'),
])
def test_a_bad_url(tmp_path, url, message, psycopg_installed):
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-url"
    assert error["message"] == f"Cannot open state database '{redact(url)}': {message}"
    assert error["fix"].startswith("Write it as postgresql://USER@HOST[:PORT]/DATABASE")


def test_a_short_password_drops_the_driver_message_rather_than_show_it(tmp_path, psycopg_installed):
    error = run_error(tmp_path, "postgresql://n3:pw@[::1/db")
    assert error["message"] == ("Cannot open state database 'postgresql://n3:***@[::1/db': it is not a valid "
                                "PostgreSQL URL: the driver's message is left out, as it would show the password")


def test_connection_refused(tmp_path, psycopg_installed):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://n3:{pg_server.PASSWORD}@127.0.0.1:{port}/db"
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-connect"
    assert error["message"] == (f"Cannot open state database 'postgresql://n3:***@127.0.0.1:{port}/db': cannot "
                                f"connect: connection failed: connection to server at \"127.0.0.1\", port {port} "
                                "failed: Connection refused; Is the server running on that host and accepting "
                                "TCP/IP connections?")
    assert error["fix"] == (f"Start the server, or correct the host and port in the URL (postgresql://n3:***@"
                            f"127.0.0.1:{port}/db); pg_isready tells whether a server answers there, and psql "
                            f"postgresql://n3@127.0.0.1:{port}/db -c 'SELECT 1' whether it lets you in.")


def test_an_unknown_host(tmp_path, psycopg_installed):
    error = run_error(tmp_path, "postgresql://n3@no-such-host.invalid/db")
    assert error["code"] == "runtime-state-connect"
    assert error["message"].startswith("Cannot open state database 'postgresql://n3@no-such-host.invalid/db': "
                                       "cannot connect: ")
    assert "no-such-host.invalid" in error["message"][80:]


def test_a_wrong_password(tmp_path, pg):
    url = pg.url("postgres", pg_server.PASSWORD_USER, pg_server.PASSWORD + "-not")
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-connect"
    assert error["message"] == (f"Cannot open state database '{redact(url)}': cannot connect: connection failed: "
                                f"connection to server at \"127.0.0.1\", port {pg.port} failed: FATAL:  password "
                                f"authentication failed for user \"{pg_server.PASSWORD_USER}\"")
    assert error["fix"].startswith("Check the user and password (give the password in PGPASSWORD or ~/.pgpass")


def test_a_database_that_does_not_exist(tmp_path, pg):
    url = pg.url("no_such_db")
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-connect"
    assert error["message"].endswith('FATAL:  database "no_such_db" does not exist')
    assert error["fix"] == f"Create the database first (createdb, or CREATE DATABASE as its owner), or name another in {url}."


@pytest.mark.parametrize("ddl, message", [
    ("CREATE TABLE n3_records (record text, id integer, data jsonb)",
     "its table n3_records has the columns (record text, id integer, data jsonb), not the ones n3 keeps records "
     "in (record text, id bigint, data text)"),
    ("CREATE TABLE n3_state (key text PRIMARY KEY, value text, extra int)",
     "its table n3_state has the columns (key text, value text, extra integer), not the ones n3 keeps state in "
     "(key text, value text)"),
    ("CREATE TABLE n3_state ()", "its table n3_state has the columns (no columns), not the ones n3 keeps state "
                                 "in (key text, value text)"),
    ("CREATE VIEW n3_state AS SELECT 'state'::text AS key, '{}'::text AS value", "n3_state is a view, not a table"),
])
def test_a_table_of_another_shape(tmp_path, pg_url, ddl, message):
    admin(pg_url, ddl)
    error = run_error(tmp_path, pg_url)
    assert error["code"] == "runtime-state-schema"
    assert error["message"] == f"Cannot open state database '{pg_url}': {message}"
    table = "n3_records" if "n3_records" in ddl else "n3_state"
    assert error["fix"] == (f"That {table} is not n3's: point --state at a database of n3's own, or at another "
                            f"schema (add ?options=-csearch_path%3DNAME to the URL), or rename the table (ALTER "
                            f"TABLE {table} RENAME TO {table}_old) and n3 creates its own.")


def test_a_missing_table_that_cannot_be_created(tmp_path, pg, pg_url):
    """PostgreSQL 15 lets only the owner create tables in schema public: the password user may
    connect but not create n3's tables."""
    url = pg_url.replace(f"{pg_server.SUPERUSER}@", f"{pg_server.PASSWORD_USER}:{pg_server.PASSWORD}@")
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-schema"
    assert error["message"] == (f"Cannot open state database '{redact(url)}': table n3_state is missing and "
                                "cannot be created in schema 'public': permission denied for schema public")
    user = pg_server.PASSWORD_USER
    assert error["fix"].startswith(f"Let {user} create tables there (as the schema's owner: GRANT CREATE ON SCHEMA "
                                   f"public TO {user}), or create n3's tables once")
    # the fix works: the owner creates the tables and grants their use, and the user's run goes through
    fix_sql = error["fix"].partition("let n3_password_user use them: ")[2]
    admin(pg_url, *[s for s in fix_sql.split(";") if s.strip()])
    code, out = invoke("run", str(tmp_path / "app.ai"), "--state", url)
    assert code == 0 and out.strip() == "1", out


def test_damaged_row_messages_name_the_database_without_its_password(tmp_path, pg, pg_url):
    url = pg_url.replace(f"{pg_server.SUPERUSER}@", f"{pg_server.PASSWORD_USER}:{pg_server.PASSWORD}@")
    assert invoke("run", str(write_app(tmp_path, APP)), "--state", pg_url)[0] == 0
    admin(pg_url, f"GRANT SELECT, INSERT, UPDATE, DELETE ON n3_state, n3_records TO {pg_server.PASSWORD_USER}",
          "UPDATE n3_records SET data = '[1]'")
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-record-error" and (error["line"], error["column"]) == (7, 3)
    bare = redact(url, None)
    assert error["message"] == (
        f"The record store failed: state database '{redact(url)}' holds a damaged row in table n3_records (record "
        f"'Item', id 1): its data is a JSON list, not a JSON object of fields. n3 never writes such a row, so the "
        f"database was edited; restore it from a backup, or fix or delete the row: psql {bare} -c \"DELETE FROM "
        f"n3_records WHERE record = 'Item' AND id = 1\"")


def test_the_password_in_the_url_is_used(tmp_path, pg, pg_url):
    admin(pg_url, f"GRANT CREATE ON SCHEMA public TO {pg_server.PASSWORD_USER}")
    url = pg_url.replace(f"{pg_server.SUPERUSER}@", f"{pg_server.PASSWORD_USER}:{pg_server.PASSWORD}@")
    app = write_app(tmp_path, APP)
    assert invoke("run", str(app), "--state", url) == (0, "1\n")
    # the scheme's other spelling, in capitals too
    for other in (url.replace("postgresql://", "postgres://"), url.replace("postgresql://", "PostgreSQL://")):
        assert invoke("run", str(app), "--state", other)[0] == 0
    assert admin(pg_url, "SELECT max(id) FROM n3_records") == [(3,)]


def test_without_psycopg(tmp_path, monkeypatch):
    """The extra not installed: a clear error naming the install command, exit 1, no traceback."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now raises ImportError
    url = f"postgresql://app:{pg_server.PASSWORD}@localhost/app"
    error = run_error(tmp_path, url)
    assert error["code"] == "runtime-state-driver"
    assert error["message"] == ("Cannot open state database 'postgresql://app:***@localhost/app': a postgresql:// "
                                "state needs the psycopg package, which is not installed; install it with: "
                                "pip install 'n3lang[postgres]'")
    assert "pip install 'n3lang[postgres]'" in error["fix"]


@pytest.mark.parametrize("url, shown, bare", [
    ("postgresql://app@db/app", "postgresql://app@db/app", "postgresql://app@db/app"),
    ("postgresql://app:s3cret@db:5433/app", "postgresql://app:***@db:5433/app", "postgresql://app@db:5433/app"),
    ("postgres://app:p/w@x@db/app", "postgres://app:***@db/app", "postgres://app@db/app"),  # '@' and '/' unencoded
    ("postgresql://db/app?user=app&password=s3cret&sslmode=require",
     "postgresql://db/app?user=app&password=***&sslmode=require", "postgresql://db/app?user=app&sslmode=require"),
    ("POSTGRESQL://:s3cret@db", "postgresql://:***@db", "postgresql://db"),
])
def test_redact(url, shown, bare):
    assert redact(url) == shown and redact(url, None) == bare
