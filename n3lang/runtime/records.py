"""Record storage: one small store interface, with SQLite (stdlib sqlite3) behind it.

The interpreter talks only to :class:`RecordStore`, so another backend (PostgreSQL) can sit
behind the same five operations later. Values are stored as JSON text with numbers written
exactly (no floats ever), so decimals round-trip through the database unchanged.

Writes happen inside one transaction per run: ``commit`` on success, ``rollback`` on failure.
"""

from __future__ import annotations

import functools
import sqlite3
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any, Callable, TypeVar

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
    """The backing database could not be opened or read."""


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
    """Turn sqlite3 errors (locked, read-only, disk full...) into StoreError."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise store_error(exc) from exc

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


class SQLiteStore(RecordStore):
    """The SQLite store: ``path=None`` keeps everything in memory for one run.

    Decoded rows are cached per record type (write-through), so repeated finds do not
    re-read the database.
    """

    def __init__(self, path: str | None = None) -> None:
        try:
            self._db = sqlite3.connect(":memory:" if path is None else str(path),
                                       isolation_level=None, timeout=BUSY_TIMEOUT)
            self._db.executescript(_SCHEMA)
            self._db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise store_error(exc) from exc
        self._path = "the state file" if path is None else f"state file '{path}'"
        self._cli_path = "STATE.db" if path is None else str(path)
        self._cache: dict[str, dict[int, dict]] = {}
        self._next_id: dict[str, int] = {}

    # -- state
    def load_state(self) -> dict:
        try:
            row = self._db.execute("SELECT value FROM n3_state WHERE key = 'state'").fetchone()
            if row is None:
                return {}
            if not isinstance(row[0], str):
                raise StoreError(f"{self._path} holds a damaged row in table n3_state (key 'state'): its value is "
                                 f"{_kind(row[0])}, not JSON text. n3 never writes such a row, so the file was "
                                 f"edited; restore it from a backup, or delete the row to start from an empty "
                                 f"state: sqlite3 {self._cli_path} \"DELETE FROM n3_state WHERE key = 'state'\"")
            value = parse_json_text(row[0])
        except (sqlite3.Error, ValueError, RecursionError) as exc:
            raise StoreError(str(exc)) from exc
        return value if isinstance(value, dict) else {}

    @_wrapped
    def save_state(self, state: dict) -> None:
        self._db.execute(
            "INSERT INTO n3_state (key, value) VALUES ('state', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_encode(state),),
        )

    # -- records
    def _rows(self, record: str) -> dict[int, dict]:
        rows = self._cache.get(record)
        if rows is None:
            try:
                cursor = self._db.execute(
                    "SELECT id, data FROM n3_records WHERE record = ? ORDER BY id", (record,))
                rows = {}
                for rid, data in cursor:
                    rows[self._check_id(record, rid)] = self._decode_row(record, rid, data)
            except sqlite3.Error as exc:
                raise StoreError(str(exc)) from exc
            self._cache[record] = rows
            self._next_id[record] = (max(rows) if rows else 0) + 1
        return rows

    def _bad_row(self, record: str, rid: Any, problem: str) -> StoreError:
        where = f"record = {_sql_text(record)} AND id = {_sql_text(rid)}"
        return StoreError(
            f"{self._path} holds a damaged row in table n3_records (record {record!r}, id {rid!r}): {problem}. "
            f"n3 never writes such a row, so the file was edited; restore it from a backup, or fix or delete "
            f"the row: sqlite3 {self._cli_path} \"DELETE FROM n3_records WHERE {where}\"")

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
            raise StoreError(
                f"cannot create another {record!r} in {self._path}: its highest id is {rid - 1}, the largest "
                f"SQLite can hold, so there is no next id. n3 counts ids up from 1, so the file was edited; "
                f"restore it from a backup, or give that row a smaller unused id or delete it: sqlite3 "
                f"{self._cli_path} \"DELETE FROM n3_records WHERE record = {_sql_text(record)} AND id = {rid - 1}\"")
        self._next_id[record] = rid + 1
        self._db.execute("INSERT INTO n3_records (record, id, data) VALUES (?, ?, ?)",
                         (record, rid, _encode(data)))
        rows[rid] = data
        return rid

    def scan(self, record: str) -> list[tuple[int, dict]]:
        return list(self._rows(record).items())

    @_wrapped
    def replace(self, record: str, record_id: int, data: dict) -> None:
        rows = self._rows(record)
        self._db.execute("UPDATE n3_records SET data = ? WHERE record = ? AND id = ?",
                         (_encode(data), record, record_id))
        rows[record_id] = data

    @_wrapped
    def delete(self, record: str, record_ids: list[int]) -> None:
        rows = self._rows(record)
        self._db.executemany("DELETE FROM n3_records WHERE record = ? AND id = ?",
                             [(record, rid) for rid in record_ids])
        for rid in record_ids:
            rows.pop(rid, None)

    # -- transactions
    @_wrapped
    def commit(self) -> None:
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    @_wrapped
    def rollback(self) -> None:
        self._db.execute("ROLLBACK")
        self._db.execute("BEGIN")
        self._cache.clear()
        self._next_id.clear()

    def close(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        finally:
            self._db.close()
