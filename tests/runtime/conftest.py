"""Fixtures for the record-store tests: a real PostgreSQL server (one per test session and
xdist worker, see pg_server.py), a fresh database per test, and ``state_location``, which runs a
test once with a SQLite file and once with a PostgreSQL URL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import pg_server  # noqa: E402


@pytest.fixture(scope="session")
def psycopg_installed() -> None:
    """Skips, saying why, when the postgres extra is not installed (the test extra brings it)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (the postgres extra): pip install 'n3lang[postgres]'")


@pytest.fixture(scope="session")
def pg(psycopg_installed):
    """The session's PostgreSQL server; skipped, saying why, when its binaries are not installed."""
    reason = pg_server.missing_reason()
    if reason:
        pytest.skip(reason)
    server = pg_server.Server()
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg):
    """The URL of a fresh, empty database (dropped after the test)."""
    name = pg.new_database()
    yield pg.url(name)
    pg.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_location(request, tmp_path):
    """A --state value: a SQLite file in tmp_path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    return request.getfixturevalue("pg_url")
