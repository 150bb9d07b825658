"""The log keeps two secondary indexes (X-Road-Id, trace); an older log loses the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from services.interop_layer.base import Base
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.migrate import DROPPED_INDEXES, migrate
from services.interop_layer.messagelog.service import query_records
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from tests.interop_layer.conftest import empty_database
from tests.interop_layer.test_messagelog_writer import record

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
KEPT = {"ix_im_log_record_x_road_id", "ix_im_log_record_trace_id"}


def indexes(database: Database) -> set[str]:
    return {str(index["name"]) for index in inspect(database.engine).get_indexes("im_log_record")}


@pytest.mark.anyio
async def test_an_older_log_loses_its_stale_indexes_and_keeps_its_records(
    module_database: str, tmp_path: Path
) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    key = load_or_create_key(tmp_path / "key.pem")
    first = LogWriter(database, key)
    first.open()
    await first._write([record(1, trace_id=TRACE), record(2)])
    await first.stop()
    with database.engine.begin() as connection:  # the indexes an older version created
        for name in DROPPED_INDEXES:
            column = name.removeprefix("ix_im_log_record_")
            create = f"CREATE INDEX IF NOT EXISTS {name} ON im_log_record ({column})"
            connection.execute(text(create))
    assert indexes(database) >= KEPT | set(DROPPED_INDEXES)

    again = LogWriter(database, key)
    again.open()
    assert indexes(database) == KEPT
    assert migrate(database) is False  # nothing left to do
    await again._write([record(3, trace_id=TRACE)])
    await again.stop()
    with database.session() as session:
        traced = query_records(session=session, trace_id=TRACE)
        assert [r.x_road_id for r in traced] == ["writer-1", "writer-3"]
        by_client = query_records(session=session, client="DPI/GOV/MOH/hmis", newest_first=True)
        assert [r.seq for r in by_client] == [3, 2, 1]
    database.dispose()
    assert verify_database(module_database).ok is True


def test_the_trace_and_x_road_id_lookups_use_their_indexes(module_database: str) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    with database.engine.begin() as connection:
        for column in ("trace_id", "x_road_id"):
            query = f"SELECT seq FROM im_log_record WHERE {column} = :v ORDER BY seq LIMIT 100"
            if database.is_sqlite:
                plan = connection.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"v": "x"}).all()
            else:  # an empty table: the planner would rather scan it
                connection.execute(text("SET LOCAL enable_seqscan = off"))
                plan = connection.execute(text(f"EXPLAIN {query}"), {"v": "x"}).all()
            assert f"ix_im_log_record_{column}" in " ".join(str(row) for row in plan)
    database.dispose()
