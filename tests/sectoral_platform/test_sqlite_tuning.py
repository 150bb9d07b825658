"""A streamed read runs with a small page cache and file-backed sorts, and gives the pooled
connection back with the write settings, however the read ends."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from services.kernel.db import Database
from services.sectoral_platform.sqlite_tuning import (
    STREAM_CACHE_KIB,
    WRITE_CACHE_KIB,
    streaming_read,
    tune_sqlite,
)

FILE, MEMORY = 1, 2  # PRAGMA temp_store values


def _settings(conn: Connection) -> tuple[int, int]:
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    temp = conn.exec_driver_sql("PRAGMA temp_store").scalar_one()
    return int(cache), int(temp)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'platform.db'}")
    tune_sqlite(db)
    try:
        yield db
    finally:
        db.engine.dispose()


def _rows(db: Database, seen: list[tuple[int, int]]) -> Generator[int, None, None]:
    with db.engine.connect() as conn, streaming_read(conn):
        seen.append(_settings(conn))
        yield from range(3)


def test_a_read_runs_lean_and_restores_the_write_settings(database: Database) -> None:
    seen: list[tuple[int, int]] = []
    assert list(_rows(database, seen)) == [0, 1, 2]
    assert seen == [(-STREAM_CACHE_KIB, FILE)]
    with database.engine.connect() as conn:
        assert _settings(conn) == (-WRITE_CACHE_KIB, MEMORY)


def test_an_abandoned_read_restores_them_too(database: Database) -> None:
    seen: list[tuple[int, int]] = []
    rows = _rows(database, seen)
    assert next(rows) == 0
    rows.close()  # a client that hangs up mid-stream
    with database.engine.connect() as conn:
        assert _settings(conn) == (-WRITE_CACHE_KIB, MEMORY)
