"""Group commit under load: a batch goes once it holds at least half of the exchanges under way
(the rest form the next one), so answers never all wait for the slowest exchange."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.interop_layer.base import Base
from services.interop_layer.messagelog.chain import load_or_create_key
from services.interop_layer.messagelog.outage import LogUnavailable
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.messagelog.writer import LogWriter
from services.kernel.db import Database
from tests.interop_layer.conftest import empty_database
from tests.interop_layer.test_messagelog_writer import before_each_write, record

pytestmark = pytest.mark.anyio


async def exchange(writer: LogWriter, n: int, finished: asyncio.Event) -> None:
    """What `answer_logged` does: counted as under way, then hands its record over and waits."""
    await finished.wait()
    writer.expected -= 1
    await writer.commit(record(n))


async def test_a_batch_goes_with_half_of_the_exchanges_under_way(
    module_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"), commit_delay=30.0)
    writer.open()
    batches: list[int] = []
    before_each_write(writer, monkeypatch, lambda batch: batches.append(len(batch)))
    writer.start()
    finished = [asyncio.Event() for _ in range(4)]
    writer.expected = 4  # four exchanges under way
    tasks = [asyncio.create_task(exchange(writer, n, finished[n])) for n in range(4)]
    finished[0].set()
    finished[1].set()
    # two records in, two exchanges still under way: the first batch goes without waiting
    # for them (the commit delay, 30 s, would end this test with a timeout)
    await asyncio.wait_for(asyncio.gather(*tasks[:2]), timeout=10)
    assert batches == [2] and not any(task.done() for task in tasks[2:])
    finished[2].set()
    finished[3].set()
    await asyncio.wait_for(asyncio.gather(*tasks[2:]), timeout=10)
    assert sum(batches) == 4 and batches[0] == 2
    await writer.stop()
    database.dispose()
    assert verify_database(module_database).ok is True


async def test_a_wait_that_goes_away_cancels_only_itself(
    module_database: str, tmp_path: Path
) -> None:
    """A request cancelled while its record's batch is being written: its neighbours' commit
    goes on, and its own record, handed over, is written."""
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.open()
    writer.start()
    writer._lock.acquire()  # a reader holds the log: the batch waits for it in a thread
    try:
        tasks = [asyncio.create_task(writer.commit(record(n))) for n in range(3)]
        deadline = asyncio.get_running_loop().time() + 10
        while not writer._flushing.locked() or writer._pending:
            assert asyncio.get_running_loop().time() < deadline, "the batch never left"
            await asyncio.sleep(0.01)
        assert not any(task.done() for task in tasks)
        tasks[1].cancel()
        await asyncio.sleep(0.05)
        assert tasks[1].cancelled() and not tasks[0].done() and not tasks[2].done()
    finally:
        writer._lock.release()
    await asyncio.wait_for(asyncio.gather(tasks[0], tasks[2]), timeout=10)
    assert writer.head_seq == 3  # the cancelled exchange's record too
    await writer.stop()
    database.dispose()
    assert verify_database(module_database).ok is True


async def test_exchanges_waiting_past_their_deadline_are_refused_and_the_timer_is_off_after(
    module_database: str, tmp_path: Path
) -> None:
    """A batch that cannot be committed in time (a reader holds the log): its exchanges are
    refused at their shared deadline, not answered; once the log is free the next ones commit
    and no deadline stays armed."""
    database = Database(empty_database(module_database), Base.metadata)
    writer = LogWriter(database, load_or_create_key(tmp_path / "key.pem"))
    writer.wait_seconds = 0.2
    writer.open()
    writer.start()
    writer._lock.acquire()  # the batch waits for the reader in a thread
    try:
        tasks = [asyncio.create_task(writer.commit(record(n))) for n in range(3)]
        done, _ = await asyncio.wait(tasks, timeout=10)
        assert done == set(tasks)
        assert all(isinstance(task.exception(), LogUnavailable) for task in tasks)
    finally:
        writer._lock.release()
    await asyncio.wait_for(writer.commit(record(3)), timeout=10)
    assert writer._waiters.deadline is None and not writer._waiters
    await writer.stop()
    database.dispose()
    assert verify_database(module_database).ok is True
