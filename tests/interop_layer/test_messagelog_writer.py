"""The writer's prepared INSERT stores exactly what SQLAlchemy Core stores, on both databases;
its batches' connection and their cancellation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from services.interop_layer.base import Base
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.insert import RecordInsert
from services.interop_layer.messagelog.models import LogRecord
from services.interop_layer.messagelog.pgwrite import FRESH
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel import kept as kept_module
from services.kernel.db import Database
from tests.interop_layer.conftest import empty_database
from tests.kernel.test_kept import terminate


def record(n: int, **values: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "x_road_id": f"writer-{n}",
        "request_id": f"request-{n}",
        "trace_id": None,
        "kind": "exchange",
        "client": "DPI/GOV/MOH/hmis",
        "service": "DPI/GOV/CRVS/registries/echo",
        "method": "POST",
        "path": "/r1/DPI/GOV/CRVS/registries/echo/é",
        "query": "a=1",
        "status_code": 200,
        "outcome": "Successful",
        "started_at": datetime(2026, 5, 4, 3, 2, 1, 0, tzinfo=UTC),
        "duration_us": 900,
        "upstream_us": None,
        "request_hash": "x" * 88,
        "subject_hash": None,
        "purpose": None,
        "decision_id": None,
        "consent_record_id": None,
        "error_type": None,
        "request_body": None,
        "response_body": None,
        "request_fields": None,
        "response_fields": None,
    }
    fields.update(values)
    return fields


def pg_writer(url: str, tmp_path: Path, why: str) -> tuple[Database, LogWriter]:
    """An open writer on a fresh PostgreSQL database; the test skipped, `why`, on SQLite."""
    database = Database(empty_database(url), Base.metadata)
    if database.is_sqlite:
        database.dispose()
        pytest.skip(f"{why}; runs with DPI_TEST_DB=postgres")
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    return database, writer


def stored_ids(database: Database) -> list[str]:
    with database.engine.begin() as connection:
        rows = connection.execute(text("SELECT x_road_id FROM im_log_record"))
        return sorted(str(row[0]) for row in rows)


async def stopped_and_verified(writer: LogWriter, database: Database, url: str) -> None:
    await writer.stop()
    database.dispose()
    assert verify_database(url).ok is True


@pytest.mark.anyio
async def test_prepared_insert_stores_what_core_stores(
    module_database: str, tmp_path: Path
) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    rich = {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "started_at": datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC),
        "request_body": '{"name": "Ä"}',
        "request_fields": ["name"],
        "response_fields": ["a", "a[].b"],
    }
    await writer._write([record(1), record(2, **rich)])
    table = LogRecord.__table__  # type: ignore[attr-defined]
    with database.engine.begin() as connection:  # the same records through Core, as seq 3 and 4
        for seq, fields in ((3, record(1)), (4, record(2, **rich))):
            written = connection.execute(
                text("SELECT * FROM im_log_record WHERE seq = :seq"), {"seq": seq - 2}
            ).mappings()
            row = dict(next(iter(written)))
            connection.execute(table.insert(), {**row, **fields, "seq": seq})
        raw = [
            dict(r)
            for r in connection.execute(text("SELECT * FROM im_log_record ORDER BY seq")).mappings()
        ]
    for prepared, core in ((raw[0], raw[2]), (raw[1], raw[3])):
        assert {**prepared, "seq": 0} == {**core, "seq": 0}
    with database.session() as session:
        stored = session.get(LogRecord, 2)
        assert stored is not None
        assert stored.started_at == rich["started_at"]
        assert stored.request_fields == ["name"] and stored.response_fields == ["a", "a[].b"]
        assert stored.request_body == '{"name": "Ä"}' and stored.upstream_us is None
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM im_log_record WHERE seq > 2"))
    await stopped_and_verified(writer, database, module_database)


def test_the_quicker_datetime_text_is_the_column_types_own(module_database: str) -> None:
    """On SQLite a UTC `started_at` is formatted by `isoformat`; any datetime comes out as the
    column type's own processor makes it (on PostgreSQL that processor is used as it is)."""
    database = Database(module_database, Base.metadata)
    insert = RecordInsert(database.engine)
    table = LogRecord.__table__  # type: ignore[attr-defined]
    column = table.c.started_at.type.dialect_impl(database.engine.dialect)
    own = column.bind_processor(database.engine.dialect)
    at = insert.names.index("started_at")
    ours = next(processor for position, processor, _ in insert.converted if position == at)
    values = [datetime(2026, 5, 4, 3, 2, 1, micro, tzinfo=UTC) for micro in (0, 1, 123456, 999999)]
    values += [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    values.append(datetime(2026, 5, 4, 3, 2, 1, 5, tzinfo=timezone(timedelta(hours=-3))))
    for value in values:
        assert ours(value) == own(value)
    database.dispose()


@pytest.mark.anyio
async def test_batches_share_one_kept_connection_and_a_dropped_one_is_replaced(
    module_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the writer's batches go over one connection it keeps; one the server dropped
    while idle is replaced before the batch's first statement; one lost in the middle of a batch
    fails that batch whole, and the next is written on a new connection, the chain intact."""
    why = "PostgreSQL's kept connection (SQLite writes on a connection of its own)"
    database, writer = pg_writer(module_database, tmp_path, why)
    assert writer._pg is not None
    kept = writer._pg.kept
    await writer._write([record(1), record(2)])
    first = kept.connection
    await writer._write([record(3)])
    await writer._write([record(4), record(5)])
    assert kept.connection is first and kept.opened == 1
    terminate(first)
    await writer._write([record(6)])
    assert kept.connection is not None and kept.connection is not first and kept.opened == 2
    numbers, healthy, drawn = writer._pg.reserve, kept.get, False

    async def draw(count: int) -> list[int]:
        nonlocal drawn
        drawn = True
        return await numbers(count)

    async def lost_after_the_numbers() -> Any:
        connection = await healthy()
        if drawn:
            terminate(connection)
        return connection

    monkeypatch.setattr(writer._pg, "reserve", draw)
    monkeypatch.setattr(kept, "get", lost_after_the_numbers)
    monkeypatch.setattr(kept_module, "hung_up", lambda connection: False)  # unnoticed
    with pytest.raises(psycopg.Error):
        await writer._write([record(7)])
    monkeypatch.undo()
    assert kept.connection is None
    writer._restart_at(writer._reopen_locked())  # what the writer's task does after a failure
    await writer._write([record(8)])
    ids = stored_ids(database)
    assert ids == [f"writer-{n}" for n in (1, 2, 3, 4, 5, 6, 8)]
    await stopped_and_verified(writer, database, module_database)


@pytest.mark.anyio
async def test_a_batch_under_way_is_written_once_when_its_flush_is_cancelled(
    module_database: str, tmp_path: Path
) -> None:
    """A flush cancelled while its batch waits for the writer's lock still writes that batch,
    once, and never gives it back for another write."""
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    writer._lock.acquire()  # a purge or a verification holds the log
    try:
        exchange = asyncio.create_task(writer.commit(record(1)))
        deadline = time.monotonic() + 5
        while writer._pending or not writer._flushing.locked():
            assert time.monotonic() < deadline, "the batch was not taken"
            await asyncio.sleep(0.01)
        exchange.cancel()
    finally:
        writer._lock.release()
    finished, _ = await asyncio.wait([exchange], timeout=10)
    assert finished and exchange.cancelled(), "the cancelled exchange did not end"
    assert not writer._pending and writer.available
    assert not writer._lock.locked()  # a cancelled write left it held: purge would wait forever
    await asyncio.wait_for(writer._write([record(2)]), 10)  # its connection still serves
    ids = stored_ids(database)
    assert ids == ["writer-1", "writer-2"]
    await stopped_and_verified(writer, database, module_database)


@pytest.mark.anyio
async def test_numbers_are_reserved_ahead_only_while_a_batch_is_coming(
    module_database: str, tmp_path: Path
) -> None:
    """PostgreSQL: a batch written while another is coming, or in a stream of batches of several
    records, reserves the next one's numbers in the same statement; a writer at rest reserves
    none (no gaps), and numbers left past `FRESH` are dropped (a gap) rather than used out of
    order with other replicas' records."""
    why = "PostgreSQL's sequence (SQLite numbers its records itself)"
    database, writer = pg_writer(module_database, tmp_path, why)
    assert writer._pg is not None
    await writer._write([record(1)])
    assert writer._pg._ahead == []  # at rest
    writer.expected = 3  # exchanges under way: their batch is coming
    await writer._write([record(2), record(3)])
    assert writer._pg._ahead == [4, 5, 6, 7, 8]
    writer.expected = 0
    await writer._write([record(4), record(5)])  # from those reserved, none reserved now
    assert writer._pg._ahead == [6, 7, 8]
    writer._pg._reserved_at -= FRESH  # a pause
    await writer._write([record(6)])  # alone: reserves none
    assert writer._pg._ahead == []
    await writer._write([record(7), record(8)])  # several, right after another batch: a stream
    assert writer._pg._ahead == [12, 13]
    writer._pg._written_at -= FRESH  # the stream has stopped
    await writer._write([record(9), record(10)])
    assert writer._pg._ahead == []
    with database.engine.begin() as connection:
        rows = connection.execute(text("SELECT x_road_id, seq FROM im_log_record")).all()
    numbers = {str(x_road_id): int(seq) for x_road_id, seq in rows}
    expected = (1, 2, 3, 4, 5, 9, 10, 11, 12, 13)
    assert numbers == {f"writer-{n}": seq for n, seq in enumerate(expected, start=1)}
    await stopped_and_verified(writer, database, module_database)


def before_each_write(
    writer: LogWriter, monkeypatch: pytest.MonkeyPatch, before: Callable[[list[Any]], None]
) -> None:
    """Call `before(batch)` ahead of every batch's write to the database, on either database
    (raising there fails the batch as a failed write does)."""
    if writer._pg is not None:
        pg_write = writer._pg.write

        async def written(batch: list[Any], head: dict[str, Any], *, coming: int) -> None:
            before(batch)
            await pg_write(batch, head, coming=coming)

        monkeypatch.setattr(writer._pg, "write", written)
        return
    sqlite_write = writer._store.write

    def stored(insert: Any, batch: list[Any], head: dict[str, Any]) -> None:
        before(batch)
        sqlite_write(insert, batch, head)

    monkeypatch.setattr(writer._store, "write", stored)
