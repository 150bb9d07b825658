"""The writer's prepared INSERT stores exactly what SQLAlchemy Core stores, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from services.interop_layer.base import Base
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.insert import RecordInsert
from services.interop_layer.messagelog.models import LogRecord
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from tests.interop_layer.conftest import empty_database


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


def test_prepared_insert_stores_what_core_stores(module_database: str, tmp_path: Path) -> None:
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
    writer._write([record(1), record(2, **rich)])
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
    writer.close()
    database.dispose()
    assert verify_database(module_database).ok is True


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


def test_batches_share_one_kept_connection_and_a_lost_one_is_replaced(
    module_database: str, tmp_path: Path
) -> None:
    """PostgreSQL: the writer's batches go over one pool connection it keeps (no check-out per
    step); a kept connection lost while idle is replaced before the batch's first statement, as
    the pool's ping would have; lost in the middle of a batch, that batch fails whole and the
    next is written on a new connection, the chain intact either way."""
    database = Database(empty_database(module_database), Base.metadata)
    if database.is_sqlite:
        database.dispose()
        pytest.skip("PostgreSQL's kept connection (SQLite writes on a connection of its own)")
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    store = writer._store
    writer._write([record(1), record(2)])
    kept = store._kept
    assert kept is not None
    pool = cast(QueuePool, database.engine.pool)
    checked_out = pool.checkedout()
    writer._write([record(3)])
    writer._write([record(4), record(5)])
    assert store._kept is kept and pool.checkedout() == checked_out
    kept.dbapi_connection.close()  # as a server restart or a network cut leaves it
    writer._write([record(6)])
    assert store._kept is not None and store._kept is not kept
    healthy = store.write

    def cut(insert: Any, batch: list[dict[str, Any]], head: dict[str, Any]) -> None:
        store._kept.dbapi_connection.close()  # lost after the numbers were drawn
        healthy(insert, batch, head)

    store.write = cut  # type: ignore[method-assign]
    with pytest.raises(psycopg.Error):
        writer._write([record(7)])
    store.write = healthy  # type: ignore[method-assign]
    writer._restart_at(writer._reopen_locked())  # what the writer's task does after a failure
    writer._write([record(8)])
    with database.engine.begin() as connection:
        ids = [row[0] for row in connection.execute(text("SELECT x_road_id FROM im_log_record"))]
    assert sorted(ids) == [f"writer-{n}" for n in (1, 2, 3, 4, 5, 6, 8)]
    writer.close()
    database.dispose()
    assert verify_database(module_database).ok is True
