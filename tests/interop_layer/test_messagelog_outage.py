"""The message log while its database fails: the waiting exchanges are refused (their records
dropped, never chained), new ones at once; records nobody waits for stay queued; and when the
database answers again the writer reopens its chain by itself and the log still verifies."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.interop_layer.base import Base
from services.interop_layer.messagelog import writer as writer_module
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.chains import ChainClaim, ChainInUse
from services.interop_layer.messagelog.outage import LogUnavailable, reopen
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from tests.conftest import USE_POSTGRES
from tests.interop_layer.conftest import empty_database
from tests.interop_layer.test_messagelog_writer import before_each_write, record


class Outage:
    """Makes the writer's database calls fail while `down`."""

    def __init__(self) -> None:
        self.down = False

    def check(self) -> None:
        if self.down:
            refused = psycopg.OperationalError("connection failed: Connection refused")
            raise OperationalError("INSERT", {}, refused)


@pytest.mark.anyio
async def test_exchanges_are_refused_while_the_log_cannot_be_written(
    module_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    outage = Outage()

    def failing_reopen(*args: Any) -> Any:
        outage.check()
        return reopen(*args)

    before_each_write(writer, monkeypatch, lambda batch: outage.check())
    monkeypatch.setattr(writer_module, "reopen", failing_reopen)
    writer.open()
    writer.start()
    try:
        await writer.commit(record(1))
        outage.down = True
        with pytest.raises(LogUnavailable):
            await writer.commit(record(2))  # its batch failed: refused, not answered
        assert writer.unready() is not None
        with pytest.raises(LogUnavailable):
            await writer.commit(record(3))  # refused at once while unavailable
        writer.submit(record(4))  # nobody waits: kept for later
        outage.down = False
        deadline = time.monotonic() + 5
        while not writer.available:
            assert time.monotonic() < deadline, "the writer did not recover by itself"
            await anyio.sleep(0.02)
        assert writer.unready() is None
        await writer.commit(record(5))
    finally:
        await writer.stop()
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT x_road_id FROM im_log_record ORDER BY seq"))
        stored = [x_road_id for (x_road_id,) in rows]
    assert stored == ["writer-1", "writer-4", "writer-5"]
    report = verify_database(database.url)
    assert report.ok and report.checked == 3, report
    database.dispose()


@pytest.mark.skipif(not USE_POSTGRES, reason="chain claims are PostgreSQL advisory locks")
def test_a_chain_claim_lost_with_its_connection_is_taken_again(module_database: str) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    claim = ChainClaim(database, "outage")
    assert claim.connection is not None
    backend = claim.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    claim.connection.commit()
    with database.engine.connect() as other:  # the server ends the session: the lock goes too
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        other.commit()
        claim.ensure(database)  # taken again, on a new connection
        with pytest.raises(ChainInUse):
            ChainClaim(database, "outage")  # so a second writer of the chain is refused again
    claim.release()
    ChainClaim(database, "outage").release()  # and free once released
    database.dispose()
