"""A throwaway PostgreSQL + PostGIS server in a temporary folder, for tests and benchmarks.

``initdb`` makes a cluster under a new temporary directory, ``pg_ctl`` starts it
listening on a free loopback port only (and a socket in that directory), and
:meth:`TempServer.stop` ends it and removes the folder. PostgreSQL refuses to
run as root, so under root the server runs as the ``postgres`` system user.

The server is tuned for throwaway data (no fsync, no full-page writes): a
crashed *server* loses nothing committed, but a crashed machine would. Commits
stay synchronous: with ``synchronous_commit=off`` a server stopped at once loses
the last commits, which the fault test would (and once did) catch.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

SUPERUSER = "cpted"


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True,  # noqa: S603
                             check=False)
        path = Path(out.stdout.strip())
        if (path / "initdb").exists():
            return path
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def unavailable() -> str | None:
    """Why a temporary PostGIS server cannot start here, or None when it can."""
    bindir = _bindir()
    if bindir is None:
        return "PostgreSQL's initdb and pg_ctl are not installed (Debian package postgresql)"
    share = subprocess.run([str(bindir / "pg_config"), "--sharedir"],  # noqa: S603
                           capture_output=True, text=True, check=False).stdout.strip()
    controls = list(Path(share).glob("extension/postgis.control")) if share else []
    controls += list(Path("/usr/share/postgresql").glob("*/extension/postgis.control"))
    if not controls:
        return "PostGIS is not installed (Debian package postgresql-15-postgis-3)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TempServer:
    """One PostgreSQL cluster in a temporary directory; a context manager."""

    def __init__(self) -> None:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        bindir = _bindir()
        if bindir is None:  # unavailable() has said so already; this keeps bindir a Path
            raise RuntimeError("PostgreSQL's initdb and pg_ctl are not installed")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cpted-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
                  "-E", "UTF8", "--no-sync", "--locale=C")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stderr.strip()}\n{tail}")

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                  "-o", opts, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash-like stop mid-work."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (from ``template`` when given); returns its URL."""
        name = f"cpted_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                tmpl = f' TEMPLATE "{template}"' if template else ""
                for attempt in range(20):
                    try:
                        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{tmpl}')
                        break
                    except sa.exc.OperationalError:
                        # the template is busy while another session is connected to it
                        if attempt == 19:
                            raise
                        time.sleep(0.1)
        finally:
            engine.dispose()
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
