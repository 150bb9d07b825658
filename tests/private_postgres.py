"""A PostgreSQL server of a test's own, to stop and start at will (a database outage).

The machine's shared server (`DPI_TEST_POSTGRES_URL`) serves every other test, so it is never
stopped: `PrivatePostgres` runs `initdb` in a temporary directory and serves it on a free loopback
port, its socket in that directory. As root it runs everything as the `postgres` user (initdb and
the server refuse to run as root). `private_postgres` (tests/conftest.py) is the fixture.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from bench.common import free_port

START_SECONDS = 30.0


def postgres_bin() -> Path | None:
    """The directory of the newest installed PostgreSQL's `initdb` and `pg_ctl`, if any."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if not found and (initdb := shutil.which("initdb")):
        found = [Path(initdb).parent]
    found.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _as_server_user() -> list[str]:
    """The command prefix that runs a PostgreSQL tool as a user it accepts."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


class PrivatePostgres:
    """One private cluster: `start()`, `stop(mode)`, `url(database)`, `create_database(name)`."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.socket_dir = root
        self.log = root / "server.log"
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")

    def _run(self, tool: str, *args: str) -> None:
        command = [*_as_server_user(), str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session, `immediate` is a crash (recovery at the
        next start replays the WAL)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """SQLAlchemy's URL of `database` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def private_postgres_server(bin_dir: Path) -> Iterator[PrivatePostgres]:
    """A running private cluster, stopped and deleted afterwards."""
    root = Path(tempfile.mkdtemp(prefix="dpi-private-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server = PrivatePostgres(bin_dir, root)
        server.start()
        try:
            yield server
        finally:
            if (server.data / "postmaster.pid").exists():
                server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)
