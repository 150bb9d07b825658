"""Under load the writer signs a record at most every signature interval (the signed head still
covers every batch), and on SQLite its commits never checkpoint: a thread does, aside."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import make_url

from services.interop_layer.base import Base
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.store import CHECKPOINT_BATCHES
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from tests.interop_layer.conftest import empty_database
from tests.interop_layer.test_messagelog_batches import rewrite, signatures
from tests.interop_layer.test_messagelog_writer import record

pytestmark = pytest.mark.anyio


class Url:
    """What `rewrite` and `signatures` need of the settings."""

    def __init__(self, url: str) -> None:
        self.url = url

    def database(self) -> str:
        return self.url


async def write(writer: LogWriter, n: int, *, under_way: int) -> None:
    """Record `n` as a batch of its own, with `under_way` exchanges still to hand theirs over."""
    writer.expected = under_way
    writer.submit(record(n))
    await writer.flush()


async def loaded_log(url: str, tmp_path: Path, *, last_after_interval: bool) -> None:
    """Four batches within one signature interval (3600 s); the last one after it, if asked."""
    database = Database(empty_database(url), Base.metadata)
    key = load_or_create_key(tmp_path / "key.pem")
    writer = LogWriter(database, key, signature_interval=3600.0)
    writer.open()
    for n, under_way in enumerate([3, 2, 1, 0]):
        if n == 3 and last_after_interval:
            writer._signed_at -= 3600.0  # as if the interval had passed since the first batch
        await write(writer, n, under_way=under_way)
    await writer.stop()
    database.dispose()


async def test_batches_within_the_interval_share_one_signature(
    module_database: str, tmp_path: Path
) -> None:
    await loaded_log(module_database, tmp_path, last_after_interval=True)
    # the first batch is signed (none was before), the next two are not (within the interval),
    # nor is the one written with nothing left under way; the one after the interval is
    assert signatures(Url(module_database)) == [True, False, False, True]
    assert verify_database(module_database).ok is True


async def test_an_unsigned_rewritten_record_fails_the_next_signature(
    module_database: str, tmp_path: Path
) -> None:
    await loaded_log(module_database, tmp_path, last_after_interval=True)
    rewrite(Url(module_database), seq=2)
    report = verify_database(module_database)
    assert report.ok is False and report.first_bad_seq == 4
    assert "signature is invalid" in (report.reason or "") and "2..4" in (report.reason or "")


async def test_records_after_the_last_signature_are_covered_by_the_signed_head(
    module_database: str, tmp_path: Path
) -> None:
    await loaded_log(module_database, tmp_path, last_after_interval=False)
    assert signatures(Url(module_database)) == [True, False, False, False]
    assert verify_database(module_database).ok is True
    rewrite(Url(module_database), seq=3)
    report = verify_database(module_database)
    assert report.ok is False and "signed chain head" in (report.reason or "")


def big(n: int) -> dict[str, Any]:
    return record(n, request_body="x" * 160_000)  # 40 pages: 26 batches pass 1,000 WAL pages


async def test_commits_leave_the_checkpoint_to_a_thread(
    module_database: str, tmp_path: Path
) -> None:
    if not module_database.startswith("sqlite"):
        pytest.skip("SQLite's WAL checkpoint; PostgreSQL checkpoints in the server")
    database = Database(empty_database(module_database), Base.metadata)
    path = Path(make_url(module_database).database or "")
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    writer.submit(record(0))
    await writer.flush()
    with database.engine.connect() as connection:  # start from an empty WAL
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    for n in range(CHECKPOINT_BATCHES - 2):  # past SQLite's automatic checkpoint (1,000 pages)
        writer.submit(big(n))
        await writer.flush()
    assert path.stat().st_size == size  # every page still in the WAL: no commit checkpointed
    writer.submit(big(CHECKPOINT_BATCHES))  # the 32nd commit hands the checkpoint to a thread
    await writer.flush()
    deadline = time.monotonic() + 10
    while path.stat().st_size <= size and time.monotonic() < deadline:
        await anyio.sleep(0.02)
    assert path.stat().st_size > size + 1_000_000
    await writer.stop()
    assert verify_database(module_database).ok is True
    database.dispose()


async def test_an_overdue_checkpoint_waits_for_the_writer(
    module_database: str, tmp_path: Path
) -> None:
    """When the WAL kept growing past its limit, the next checkpoint holds the writer's lock so
    that no batch lands while it runs (the WAL can then restart)."""
    if not module_database.startswith("sqlite"):
        pytest.skip("SQLite's WAL checkpoint; PostgreSQL checkpoints in the server")
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    store = writer._store
    store._overdue = True
    done = threading.Event()

    def run() -> None:
        store.checkpoint()
        done.set()

    with writer._lock:  # a batch is being written
        thread = threading.Thread(target=run)
        thread.start()
        assert not done.wait(0.3)  # the checkpoint waits for the batch
    assert done.wait(10)
    thread.join()
    assert store._overdue is False  # the WAL was copied whole: it restarts
    await writer.stop()
    database.dispose()
