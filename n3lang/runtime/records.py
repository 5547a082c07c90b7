"""Record storage: one small store interface, with SQLite (stdlib sqlite3) behind it, or
PostgreSQL (records_pg.py) when ``--state`` is a ``postgresql://`` URL (:func:`open_store`).

The interpreter talks only to :class:`RecordStore`. Values are stored as JSON text with numbers
written exactly (no floats ever), so decimals round-trip through the database unchanged.

Writes happen inside one transaction per run: ``commit`` on success, ``rollback`` on failure.
"""

from __future__ import annotations

import functools
import sqlite3
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any, Callable, Iterable, TypeVar

from n3lang.runtime.values import dumps, parse_json_text


class RecordStore(ABC):
    """Persistence for app state and records. Ids are assigned by the store, from 1 per record."""

    @abstractmethod
    def load_state(self) -> dict:
        """The saved app state (``{}`` when none)."""

    @abstractmethod
    def save_state(self, state: dict) -> None:
        """Replace the saved app state."""

    @abstractmethod
    def insert(self, record: str, data: dict) -> int:
        """Store a new record's fields (without id); return its new id."""

    @abstractmethod
    def scan(self, record: str) -> list[tuple[int, dict]]:
        """Every stored record of one type, as (id, fields) in id order. Do not mutate."""

    @abstractmethod
    def replace(self, record: str, record_id: int, data: dict) -> None:
        """Overwrite the fields of one record."""

    @abstractmethod
    def delete(self, record: str, record_ids: list[int]) -> None:
        """Remove records by id."""

    def commit(self) -> None:
        """Make this run's writes durable."""

    def rollback(self) -> None:
        """Discard this run's writes."""

    def close(self) -> None:
        """Release the backend."""


class StoreError(Exception):
    """The backing database could not be opened or read.

    ``code``, ``why`` and ``fix``, when given, replace runtime-state-error's texts (a PostgreSQL
    URL, connection or schema problem has its own code and advice).
    """

    def __init__(self, message: str, *, code: str | None = None, why: str | None = None,
                 fix: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.why = why
        self.fix = fix


class StoreBusy(StoreError):
    """Another run holds the database's lock for longer than BUSY_TIMEOUT."""


BUSY_TIMEOUT = 10.0  # seconds a run waits for another run's lock on the state file


def store_error(exc: Exception) -> StoreError:
    """The StoreError for a sqlite3 error: StoreBusy when another connection holds the lock."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreBusy(f"another n3 run is using it (SQLite: {text}, after waiting {BUSY_TIMEOUT:g} s); "
                         "retry when that run has finished")
    return StoreError(text)


DATABASE_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: str | None) -> bool:
    """Whether ``--state`` names a PostgreSQL database (a URL) rather than a SQLite file."""
    return location is not None and location[:13].lower().startswith(DATABASE_SCHEMES)


def describe_location(location: str | None) -> tuple[str, str]:
    """How messages name a ``--state`` value: ("state file 'app.db'", "app.db"), or for a URL
    ("state database 'postgresql://app:***@db/app'", that URL), never with its password."""
    if is_database_url(location):
        from n3lang.runtime.records_pg import redact

        assert location is not None
        shown = redact(location)
        return f"state database '{shown}'", shown
    return f"state file '{location}'", str(location)


def open_store(location: str | None) -> RecordStore:
    """The store ``--state`` names: PostgreSQL for a postgresql:// (or postgres://) URL,
    else a SQLite file (None: in memory). Raises StoreError when it cannot be opened."""
    if is_database_url(location):
        from n3lang.runtime.records_pg import PostgresStore

        assert location is not None
        return PostgresStore(location)
    return SQLiteStore(None if location is None else str(location))


_DELETE_STATE = "DELETE FROM n3_state WHERE key = 'state'"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS n3_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS n3_records (
    record TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (record, id)
);
"""


_F = TypeVar("_F", bound=Callable[..., Any])


def _wrapped(method: _F) -> _F:
    """Turn the driver's errors (locked, read-only, disk full, connection lost...) into StoreError."""

    @functools.wraps(method)
    def call(self: TableStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except self._errors as exc:
            raise self._store_error(exc) from exc

    return call  # type: ignore[return-value]


def _encode(value: Any) -> str:
    return dumps(value, indent=None, sort_keys=False)


MAX_ID = (1 << 63) - 1  # the largest SQLite INTEGER


def _sql_text(value: Any) -> str:
    """``value`` as an SQL literal (for the DELETE a message suggests)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value) if isinstance(value, (int, float)) else "X'" + bytes(value).hex() + "'"


def _kind(value: Any) -> str:
    # Not values.type_name on purpose: this names what SQLite/JSON handed back (a blob, a
    # JSON object, a real number) in a corrupt-store message, before it is a language value.
    if isinstance(value, Decimal):
        return "a JSON number"
    return {str: "text", int: "an integer", float: "a real number", bytes: "a blob",
            list: "a JSON list", dict: "a JSON object", bool: "a JSON boolean",
            type(None): "null"}.get(type(value), f"a JSON {type(value).__name__.lower()}")


class TableStore(RecordStore):
    """What the SQL backends share: two tables, ``n3_state`` (key -> JSON text) and ``n3_records``
    ((record, id) -> JSON text of the fields), read and written through the few SQL calls each
    backend supplies; decoding, damaged-row messages and id assignment live here, once.

    Decoded rows are cached per record type (write-through), so repeated finds do not re-read
    the database. A new id is one more than the highest id read in this transaction, so both
    backends give the same ids for the same runs.
    """

    _errors: tuple[type[Exception], ...] = ()  # the driver's exceptions, reported as StoreError
    _engine = "SQLite"  # "the largest {_engine} can hold"
    _edited = "the file"  # "n3 never writes such a row, so {_edited} was edited"

    def __init__(self, where: str) -> None:
        self._path = where  # how messages name the store: "state file 'app.db'"
        self._cache: dict[str, dict[int, dict]] = {}
        self._next_id: dict[str, int] = {}

    # -- the backend's SQL
    @abstractmethod
    def _state_value(self) -> Any:
        """The raw value of the state row, or None when there is none."""

    @abstractmethod
    def _write_state(self, text: str) -> None:
        """Insert or replace the state row."""

    @abstractmethod
    def _select_rows(self, record: str) -> Iterable[tuple[Any, Any]]:
        """(id, data) of every row of one record type, in id order, as the database holds them."""

    @abstractmethod
    def _insert_row(self, record: str, rid: int, text: str) -> None: ...

    @abstractmethod
    def _update_row(self, record: str, rid: int, text: str) -> None: ...

    @abstractmethod
    def _delete_rows(self, record: str, rids: list[int]) -> None: ...

    @abstractmethod
    def _shell(self, sql: str) -> str:
        """The command line that runs ``sql`` against this store (for messages)."""

    def _store_error(self, exc: Exception) -> StoreError:
        """A driver error while writing."""
        return StoreError(str(exc))

    def _read_error(self, exc: Exception) -> StoreError:
        """A driver error while reading."""
        return StoreError(str(exc))

    # -- state
    def load_state(self) -> dict:
        try:
            raw = self._state_value()
            if raw is None:
                return {}
            if not isinstance(raw, str):
                raise StoreError(f"{self._path} holds a damaged row in table n3_state (key 'state'): its value is "
                                 f"{_kind(raw)}, not JSON text. n3 never writes such a row, so {self._edited} was "
                                 f"edited; restore it from a backup, or delete the row to start from an empty "
                                 f"state: {self._shell(_DELETE_STATE)}")
            value = parse_json_text(raw)
        except (ValueError, RecursionError) as exc:
            raise StoreError(str(exc)) from exc
        except self._errors as exc:
            raise self._read_error(exc) from exc
        return value if isinstance(value, dict) else {}

    @_wrapped
    def save_state(self, state: dict) -> None:
        self._write_state(_encode(state))

    # -- records
    def _rows(self, record: str) -> dict[int, dict]:
        rows = self._cache.get(record)
        if rows is None:
            try:
                rows = {}
                for rid, data in self._select_rows(record):
                    rows[self._check_id(record, rid)] = self._decode_row(record, rid, data)
            except self._errors as exc:
                raise self._read_error(exc) from exc
            self._cache[record] = rows
            self._next_id[record] = (max(rows) if rows else 0) + 1
        return rows

    def _bad_row(self, record: str, rid: Any, problem: str) -> StoreError:
        where = f"record = {_sql_text(record)} AND id = {_sql_text(rid)}"
        return StoreError(
            f"{self._path} holds a damaged row in table n3_records (record {record!r}, id {rid!r}): {problem}. "
            f"n3 never writes such a row, so {self._edited} was edited; restore it from a backup, or fix or "
            f"delete the row: {self._shell(f'DELETE FROM n3_records WHERE {where}')}")

    def _check_id(self, record: str, rid: Any) -> int:
        if not isinstance(rid, int) or isinstance(rid, bool):
            raise self._bad_row(record, rid, f"its id is {_kind(rid)}, not an integer")
        return rid

    def _decode_row(self, record: str, rid: int, data: Any) -> dict:
        if not isinstance(data, str):
            raise self._bad_row(record, rid, f"its data is {_kind(data)}, not JSON text")
        try:
            value = parse_json_text(data)
        except (ValueError, RecursionError) as exc:
            raise self._bad_row(record, rid, f"its data is not valid JSON ({exc})") from exc
        if not isinstance(value, dict):
            raise self._bad_row(record, rid, f"its data is {_kind(value)}, not a JSON object of fields")
        return value

    @_wrapped
    def insert(self, record: str, data: dict) -> int:
        rows = self._rows(record)
        rid = self._next_id[record]
        if rid > MAX_ID:
            where = f"record = {_sql_text(record)} AND id = {rid - 1}"
            raise StoreError(
                f"cannot create another {record!r} in {self._path}: its highest id is {rid - 1}, the largest "
                f"{self._engine} can hold, so there is no next id. n3 counts ids up from 1, so {self._edited} was "
                f"edited; restore it from a backup, or give that row a smaller unused id or delete it: "
                f"{self._shell(f'DELETE FROM n3_records WHERE {where}')}")
        self._next_id[record] = rid + 1
        self._insert_row(record, rid, _encode(data))
        rows[rid] = data
        return rid

    def scan(self, record: str) -> list[tuple[int, dict]]:
        return list(self._rows(record).items())

    @_wrapped
    def replace(self, record: str, record_id: int, data: dict) -> None:
        rows = self._rows(record)
        self._update_row(record, record_id, _encode(data))
        rows[record_id] = data

    @_wrapped
    def delete(self, record: str, record_ids: list[int]) -> None:
        rows = self._rows(record)
        self._delete_rows(record, record_ids)
        for rid in record_ids:
            rows.pop(rid, None)

    def _forget(self) -> None:
        """Drop the cached rows: the next read sees the database as it is now."""
        self._cache.clear()
        self._next_id.clear()


class SQLiteStore(TableStore):
    """The SQLite store: ``path=None`` keeps everything in memory for one run."""

    _errors = (sqlite3.Error,)

    def __init__(self, path: str | None = None) -> None:
        try:
            self._db = sqlite3.connect(":memory:" if path is None else str(path),
                                       isolation_level=None, timeout=BUSY_TIMEOUT)
            self._db.executescript(_SCHEMA)
            self._db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
        super().__init__("the state file" if path is None else f"state file '{path}'")
        self._cli_path = "STATE.db" if path is None else str(path)

    def _store_error(self, exc: Exception) -> StoreError:
        return store_error(exc)

    def _shell(self, sql: str) -> str:
        return f'sqlite3 {self._cli_path} "{sql}"'

    def _state_value(self) -> Any:
        row = self._db.execute("SELECT value FROM n3_state WHERE key = 'state'").fetchone()
        return None if row is None else row[0]

    def _write_state(self, text: str) -> None:
        self._db.execute(
            "INSERT INTO n3_state (key, value) VALUES ('state', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (text,),
        )

    def _select_rows(self, record: str) -> Iterable[tuple[Any, Any]]:
        return self._db.execute("SELECT id, data FROM n3_records WHERE record = ? ORDER BY id", (record,))

    def _insert_row(self, record: str, rid: int, text: str) -> None:
        self._db.execute("INSERT INTO n3_records (record, id, data) VALUES (?, ?, ?)", (record, rid, text))

    def _update_row(self, record: str, rid: int, text: str) -> None:
        self._db.execute("UPDATE n3_records SET data = ? WHERE record = ? AND id = ?", (text, record, rid))

    def _delete_rows(self, record: str, rids: list[int]) -> None:
        self._db.executemany("DELETE FROM n3_records WHERE record = ? AND id = ?", [(record, rid) for rid in rids])

    # -- transactions
    @_wrapped
    def commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    @_wrapped
    def rollback(self) -> None:
        self._db.execute("ROLLBACK")
        self._db.execute("BEGIN")
        self._forget()

    def close(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        finally:
            self._db.close()
