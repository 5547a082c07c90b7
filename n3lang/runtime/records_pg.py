"""Records in PostgreSQL: ``n3 run --state postgresql://USER@HOST[:PORT]/DATABASE``, through psycopg 3.

The same two tables as the SQLite store (``n3_state``, ``n3_records``: created when missing,
their columns checked when present) behind the same :class:`TableStore` logic, so a run gives
the same ids, the same results and the same bytes on either. psycopg is an optional extra
(``pip install 'n3lang[postgres]'``), imported here only, when a URL is given.

One run is one transaction: COMMIT when it succeeds, ROLLBACK when it fails, so a failed run
leaves nothing behind (not even the tables it created).

Concurrency. A run reads before it writes: the state it saves back, the rows a ``find`` or a
``unique`` check sees, the highest id it counts up from. Two runs interleaving would lose an
update, hand out one id twice or let two equal ``unique`` values in. Row locks cannot guard
rows that do not exist yet (the next id, a unique value not yet taken), and SERIALIZABLE would
abort one of two such runs, which would then have to run its flow again: not safe for a flow
that called a tool or a model. So each run holds one transaction-level advisory lock on its
store (the database and schema) from its first statement to its COMMIT or ROLLBACK: runs on one
store take turns, as SQLite's writers do, and PostgreSQL drops the lock itself when a run's
connection dies. A run waits for it at most BUSY_TIMEOUT (lock_timeout), then fails as busy.

Messages name the database by its URL without the password (:func:`redact`), and the driver's
own texts are scrubbed of it too.
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Iterable
from urllib.parse import unquote

from n3lang.runtime import records
from n3lang.runtime.errors import (
    STATE_CONNECT_ERROR,
    STATE_DRIVER_ERROR,
    STATE_SCHEMA_ERROR,
    STATE_URL_ERROR,
)
from n3lang.runtime.records import StoreBusy, StoreError, TableStore

INSTALL_HINT = "pip install 'n3lang[postgres]'"
CONNECT_TIMEOUT = 10  # seconds, unless the URL sets connect_timeout (libpq's default waits forever)

# table -> its columns (name, type as format_type prints it), and how n3 creates it
TABLES = {
    "n3_state": (("key", "text"), ("value", "text")),
    "n3_records": (("record", "text"), ("id", "bigint"), ("data", "text")),
}
CREATE = {
    "n3_state": "CREATE TABLE n3_state (key text PRIMARY KEY, value text NOT NULL)",
    "n3_records": "CREATE TABLE n3_records (record text NOT NULL, id bigint NOT NULL, data text NOT NULL, "
                  "PRIMARY KEY (record, id))",
}
_COLUMNS = """
SELECT t.name, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), current_schema(), current_user
FROM (VALUES (1, 'n3_state'), (2, 'n3_records')) AS t(n, name)
LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY t.n, a.attnum
"""


def _begin() -> str:
    """BEGIN, the wait limit, then the store's lock (see the module docstring): one round trip."""
    return (f"BEGIN; SET LOCAL lock_timeout = '{int(records.BUSY_TIMEOUT * 1000)}ms'; SELECT "
            "pg_advisory_xact_lock(hashtextextended('n3lang.records:' || coalesce(current_schema(), ''), 0))")


_KINDS = {"v": "a view", "m": "a materialized view", "f": "a foreign table", "S": "a sequence", "i": "an index",
          "c": "a composite type", "I": "an index"}


def _split(url: str) -> tuple[str, str, str, str]:
    """(scheme://, user-info, host and path, query) of a URL, the user-info ending at the last
    '@' before the query (so a password with a stray '/' or '@' still counts as user-info)."""
    scheme, _, rest = url.partition("://")
    head, _, query = rest.partition("?")
    at = head.rfind("@")
    return scheme.lower() + "://", head[:at] if at >= 0 else "", head[at + 1:], query


def redact(url: str, mark: str | None = "***") -> str:
    """``url`` with its password (in the user-info or a password= parameter) shown as ``mark``,
    or left out when ``mark`` is None."""
    scheme, userinfo, host, query = _split(url)
    if userinfo:
        user, colon, _ = userinfo.partition(":")
        userinfo = f"{user}:{mark}@" if colon and mark is not None else f"{user}@" if user else ""
    params = [p for p in query.split("&") if p] if query else []
    shown = []
    for p in params:
        if p.partition("=")[0].lower() == "password":
            if mark is None:
                continue
            p = f"{p.partition('=')[0]}={mark}"
        shown.append(p)
    return scheme + userinfo + host + ("?" + "&".join(shown) if shown else "")


def _secrets(url: str) -> list[str]:
    """Every spelling of the password the URL carries (raw and percent-decoded)."""
    _, userinfo, _, query = _split(url)
    found = []
    if ":" in userinfo:
        found.append(userinfo.partition(":")[2])
    for p in query.split("&"):
        key, _, value = p.partition("=")
        if key.lower() == "password":
            found.append(value)
    found += [unquote(s) for s in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    """A driver message without the password: each occurrence becomes ***. A password so short
    (under 4 characters) that replacing it would garble the message drops the message instead."""
    for s in secrets:
        if len(s) >= 4:
            text = text.replace(s, "***")
    if any(s in text for s in secrets):
        return "the driver's message is left out, as it would show the password"
    return text


def _oneline(exc: BaseException) -> str:
    """A driver message on one line (libpq's are several, with tabs)."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        missing = isinstance(exc, ModuleNotFoundError) and (exc.name or "psycopg").split(".")[0] == "psycopg"
        what = ("the psycopg package, which is not installed" if missing else
                f"the psycopg package, which cannot be loaded ({_oneline(exc)})")
        raise StoreError(f"a postgresql:// state needs {what}; install it with: {INSTALL_HINT}",
                         code=STATE_DRIVER_ERROR) from exc
    return psycopg


class PostgresStore(TableStore):
    """The PostgreSQL store: one connection and one transaction (holding the store's lock) per run."""

    _engine = "a PostgreSQL bigint"
    _edited = "the database"

    def __init__(self, url: str) -> None:
        psycopg = _driver()
        self._url = _split(url)[0] + url.partition("://")[2]  # libpq reads lowercase schemes only
        self._secrets = _secrets(url)
        super().__init__(f"state database '{redact(url)}'")
        self._errors = (psycopg.Error,)
        self._busy = psycopg.errors.LockNotAvailable
        params = self._parse(psycopg)
        options: dict[str, Any] = {"autocommit": True}  # transactions are ours: BEGIN ... COMMIT
        if "connect_timeout" not in params:
            options["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in params:
            options["application_name"] = "n3"
        try:
            self._db = psycopg.connect(self._url, **options)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from exc
        self._in_tx = False
        try:
            self._ensure_tables(psycopg)  # its first statement begins the run: the lock comes first
        except StoreError:
            self.close()
            raise
        except psycopg.Error as exc:
            self.close()
            raise self._store_error(exc) from exc

    # -- opening
    def _parse(self, psycopg: Any) -> dict:
        try:
            params = psycopg.conninfo.conninfo_to_dict(self._url)
        except psycopg.Error as exc:
            raise self._url_error(f"it is not a valid PostgreSQL URL: {self._detail(exc)}") from exc
        for port in str(params.get("port") or "").split(","):
            if port and not (port.isdigit() and 1 <= int(port) <= 65535):
                raise self._url_error(f"its port {port!r} is not a number from 1 to 65535")
        return params

    def _url_error(self, problem: str) -> StoreError:
        return StoreError(problem, code=STATE_URL_ERROR)

    def _detail(self, exc: BaseException) -> str:
        """The driver's message, on one line and without the password; for a server error its
        primary message only (not the statement it quotes)."""
        diag = getattr(exc, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        return _scrub(primary or _oneline(exc), self._secrets)

    def _connect_error(self, exc: BaseException) -> StoreError:
        detail = self._detail(exc)
        shown = redact(self._url)
        probe = f"psql {shlex.quote(redact(self._url, None))} -c 'SELECT 1'"
        if "password authentication failed" in detail or "no password supplied" in detail:
            fix = (f"Check the user and password (give the password in PGPASSWORD or ~/.pgpass rather than in "
                   f"the URL), then try them with: {probe}")
        elif re.search(r'database ".*" does not exist', detail):
            fix = f"Create the database first (createdb, or CREATE DATABASE as its owner), or name another in {shown}."
        else:
            fix = (f"Start the server, or correct the host and port in the URL ({shown}); "
                   f"pg_isready tells whether a server answers there, and {probe} whether it lets you in.")
        return StoreError(f"cannot connect: {detail}", code=STATE_CONNECT_ERROR, fix=fix)

    def _ensure_tables(self, psycopg: Any) -> None:
        found: dict[str, list[tuple[str, str]]] = {}
        kinds: dict[str, str | None] = {}
        schema = user = None
        for table, kind, column, type_, schema, user in self._exec(_COLUMNS).fetchall():
            kinds[table] = kind
            if column is not None:
                found.setdefault(table, []).append((column, type_))
        for table, columns in TABLES.items():
            kind = kinds.get(table)
            if kind is None:
                self._create(psycopg, table, schema, user)
            elif kind not in ("r", "p"):
                raise self._schema_error(f"{table} is {_KINDS.get(kind, 'not a table')}, not a table", table)
            elif sorted(found.get(table, [])) != sorted(columns):
                have = ", ".join(f"{c} {t}" for c, t in found.get(table, [])) or "no columns"
                want = ", ".join(f"{c} {t}" for c, t in columns)
                raise self._schema_error(f"its table {table} has the columns ({have}), not the ones n3 keeps "
                                         f"{'state' if table == 'n3_state' else 'records'} in ({want})", table)

    def _create(self, psycopg: Any, table: str, schema: str | None, user: str | None) -> None:
        if schema is None:
            raise self._schema_error(f"table {table} is missing and there is no schema to create it in (the "
                                     "search_path names no schema that exists)", table,
                                     missing=("a schema", user))
        try:
            self._exec(CREATE[table])
        except psycopg.Error as exc:
            raise self._schema_error(f"table {table} is missing and cannot be created in schema {schema!r}: "
                                     f"{self._detail(exc)}", table, missing=(schema, user)) from exc

    def _schema_error(self, problem: str, table: str, missing: tuple | None = None) -> StoreError:
        if missing is not None:
            schema, user = missing
            tables = "; ".join(CREATE[t].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS") for t in CREATE)
            fix = (f"Let {user} create tables there (as the schema's owner: GRANT CREATE ON SCHEMA {schema} TO "
                   f"{user}), or create n3's tables once as a user who may, and let {user} use them: {tables}; "
                   f"GRANT SELECT, INSERT, UPDATE, DELETE ON n3_state, n3_records TO {user};")
        else:
            fix = (f"That {table} is not n3's: point --state at a database of n3's own, or at another schema "
                   f"(add ?options=-csearch_path%3DNAME to the URL), or rename the table "
                   f"(ALTER TABLE {table} RENAME TO {table}_old) and n3 creates its own.")
        return StoreError(problem, code=STATE_SCHEMA_ERROR, fix=fix)

    # -- statements
    def _exec(self, sql: str, params: tuple | None = None) -> Any:
        if not self._in_tx:
            self._db.execute(_begin())
            self._in_tx = True
        return self._db.execute(sql, params)

    def _store_error(self, exc: Exception) -> StoreError:
        if isinstance(exc, self._busy):
            return StoreBusy(f"another n3 run is using it (PostgreSQL: {self._detail(exc)}, after waiting "
                             f"{records.BUSY_TIMEOUT:g} s); retry when that run has finished")
        return StoreError(self._detail(exc))

    def _read_error(self, exc: Exception) -> StoreError:
        return self._store_error(exc)

    def _shell(self, sql: str) -> str:
        return f'psql {shlex.quote(redact(self._url, None))} -c "{sql}"'

    def _state_value(self) -> Any:
        row = self._exec("SELECT value FROM n3_state WHERE key = 'state'").fetchone()
        return None if row is None else row[0]

    def _write_state(self, text: str) -> None:
        # no ON CONFLICT: that needs a unique index on key, and the run's lock already keeps
        # every other run out between the UPDATE and the INSERT
        if self._exec("UPDATE n3_state SET value = %s WHERE key = 'state'", (text,)).rowcount == 0:
            self._exec("INSERT INTO n3_state (key, value) VALUES ('state', %s)", (text,))

    def _select_rows(self, record: str) -> Iterable[tuple[Any, Any]]:
        return self._exec("SELECT id, data FROM n3_records WHERE record = %s ORDER BY id", (record,)).fetchall()

    def _insert_row(self, record: str, rid: int, text: str) -> None:
        self._exec("INSERT INTO n3_records (record, id, data) VALUES (%s, %s, %s)", (record, rid, text))

    def _update_row(self, record: str, rid: int, text: str) -> None:
        self._exec("UPDATE n3_records SET data = %s WHERE record = %s AND id = %s", (text, record, rid))

    def _delete_rows(self, record: str, rids: list[int]) -> None:
        self._exec("DELETE FROM n3_records WHERE record = %s AND id = ANY(%s)", (record, rids))

    # -- transactions
    def commit(self) -> None:
        if self._in_tx:
            try:
                self._db.execute("COMMIT")
            except self._errors as exc:
                raise self._store_error(exc) from exc
            finally:
                self._in_tx = False
        self._forget()  # the lock is gone: other runs may write before the next transaction reads

    def rollback(self) -> None:
        try:
            if self._in_tx:
                self._db.execute("ROLLBACK")
        except self._errors as exc:
            raise self._store_error(exc) from exc
        finally:
            self._in_tx = False
            self._forget()

    def close(self) -> None:
        try:
            self._db.close()  # an open transaction is rolled back by the server
        except self._errors:
            pass
        finally:
            self._in_tx = False
