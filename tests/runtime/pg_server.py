"""A throwaway PostgreSQL server for the record-store tests and bench/pg_concurrency.py.

``initdb`` + ``pg_ctl`` into a temporary folder, listening on 127.0.0.1 on a free port only (no
Unix socket), trust authentication but for one password user (``PASSWORD_USER``, scram), so the
tests can see an authentication failure. PostgreSQL refuses to run as root: as root the server
runs as the ``postgres`` user (Debian's package makes it), else ``nobody``, through
``subprocess``'s ``user=``/``group=`` (no sudo or runuser needed).

Plain module (no pytest) so the benchmark can start the same server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "n3"
PASSWORD_USER = "n3_password_user"
PASSWORD = "pw-Secret-4711"  # the tests assert it never appears in any message
_BINARIES = ("initdb", "pg_ctl")


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/N/bin
    (the package does not put them on PATH), newest version first."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True):
        if all((Path(bindir) / b).is_file() for b in _BINARIES):
            return Path(bindir)
    return None


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def missing_reason() -> str | None:
    """Why no server can be started here (None when it can)."""
    if find_bindir() is None:
        return ("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: neither on PATH nor in "
                "/usr/lib/postgresql/*/bin; install Debian's postgresql package (.ci/run does)")
    return None


def _open_to_all(folder: Path) -> bool:
    """Whether every user may pass through ``folder`` and each folder above it."""
    return all(os.stat(p).st_mode & 0o001 for p in [folder.resolve(), *folder.resolve().parents])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One running server; ``url(db)`` names a database on it, ``admin(sql)`` runs SQL as the superuser."""

    def __init__(self, durable: bool = False) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(missing_reason())
        self.bindir = bindir
        root = os.geteuid() == 0
        # as root the server's user must reach the folder: not under a TMPDIR only root may enter
        self.root = Path(tempfile.mkdtemp(prefix="n3-pg-", dir=None if not root or _open_to_all(
            Path(tempfile.gettempdir())) else "/tmp"))
        self.data = self.root / "data"
        self._as: dict = {}
        if root:  # initdb: "cannot be run as root"
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                account = pwd.getpwnam("nobody")
            self._as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        (self.data / "pg_hba.conf").write_text(
            f"host all {PASSWORD_USER} 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n")
        settings = ["listen_addresses='127.0.0.1'", "unix_socket_directories=''", "max_connections=60"]
        if not durable:  # tests: nothing needs to survive a crash of the machine
            settings += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("".join(s + "\n" for s in settings))
        for attempt in range(5):  # another process may take the free port first
            self.port = _free_port()
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(f"port={self.port}\n")
            try:
                self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                          "-l", str(self.root / "server.log"))
                break
            except RuntimeError:
                if attempt == 4:
                    raise
        self.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
        self._databases = 0

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run([str(self.bindir / tool), *args], capture_output=True, text=True,
                              cwd=self.root, **self._as)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}\n{tail}")

    def url(self, database: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, *statements: str, database: str = "postgres") -> list:
        """Run statements as the superuser (autocommit); the rows of the last one, if any."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            rows: list = []
            for statement in statements:
                cur = con.execute(statement)
                rows = cur.fetchall() if cur.description else []
            return rows

    def new_database(self, prefix: str = "t") -> str:
        """A fresh, empty database; its name."""
        self._databases += 1
        name = f"{prefix}_{os.getpid()}_{self._databases}"
        self.admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data))
        except RuntimeError:
            pass
        finally:
            for _ in range(3):
                try:
                    shutil.rmtree(self.root)
                    break
                except OSError:
                    time.sleep(0.2)
