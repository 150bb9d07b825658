"""Fixtures shared by every test: a fresh database per service (SQLite or PostgreSQL).

`DPI_TEST_DB=postgres` runs the suite against PostgreSQL at `DPI_TEST_POSTGRES_URL`
(default: the local server, trust auth). Without a reachable server that mode fails in CI
and skips, with the reason, on a developer's machine.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.kernel.settings import ServiceSettings

POSTGRES_ADMIN_URL = os.environ.get(
    "DPI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
USE_POSTGRES = os.environ.get("DPI_TEST_DB", "sqlite") == "postgres"
# tests of several processes on one database: they run in the PostgreSQL pass
SHARED_POSTGRES = pytest.mark.skipif(
    not USE_POSTGRES,
    reason="replicas share a PostgreSQL database (SQLite is one process): DPI_TEST_DB=postgres",
)
# sandboxes the tests start are registered here, not among the user's own running sandboxes
os.environ.setdefault("DPI_STATE_HOME", tempfile.mkdtemp(prefix="dpi-test-state-"))

DatabaseUrlFactory = Callable[[str], str]


def _postgres_admin() -> Any:
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not USE_POSTGRES:
        return
    try:
        _postgres_admin().close()
    except Exception as exc:  # any connection failure means the mode cannot run
        message = (
            f"DPI_TEST_DB=postgres but PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}"
        )
        if os.environ.get("CI"):
            pytest.exit(message, returncode=3)
        session.config.option.markexpr = "postgres_unavailable"  # deselects every test
        print(f"\nSKIPPING the PostgreSQL run: {message}")


@contextmanager
def scratch_database(label: str, sqlite_file: Path) -> Iterator[str]:
    """A fresh, empty database's SQLAlchemy URL: `sqlite_file` on SQLite, or a new PostgreSQL
    database named after `label`, dropped afterwards."""
    if not USE_POSTGRES:
        yield f"sqlite:///{sqlite_file}"
        return
    name = f"dpi_test_{label}_{secrets.token_hex(4)}"
    with _postgres_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with _postgres_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[DatabaseUrlFactory]:
    """Make a fresh, empty database for a service and return its SQLAlchemy URL."""
    with ExitStack() as stack:

        def make(name: str) -> str:
            return stack.enter_context(scratch_database(name, tmp_path / f"{name}.db"))

        yield make


@pytest.fixture
def settings_for(
    tmp_path: Path, database_url: DatabaseUrlFactory
) -> Callable[..., ServiceSettings]:
    """Settings for a service under test: its own fresh database and a private data dir."""

    def make(service: str, cls: type[ServiceSettings] = ServiceSettings, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "service": service,
            "database_url": database_url(service),
            "data_dir": tmp_path / "data",
            "log_format": "text",
        }
        values.update(overrides)
        return cls(**values)

    return make


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def private_postgres() -> Iterator[Any]:
    """A PostgreSQL server of this test's own (`tests.private_postgres.PrivatePostgres`), which it
    may stop and start; skipped on the SQLite pass and where PostgreSQL is not installed."""
    from tests.private_postgres import postgres_bin, private_postgres_server

    if not USE_POSTGRES:
        pytest.skip("needs a PostgreSQL server of its own; runs with DPI_TEST_DB=postgres")
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's initdb is not installed (/usr/lib/postgresql/*/bin)")
    with private_postgres_server(bin_dir) as server:
        yield server
