"""The kernel's outbox: order, retry without overtaking, back-off, wake-up and stop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Delivery, Message, Outbox, OutboxTable, Pacing
from tests.kernel.mediator_fake import FakeMediator
from tests.support.polling import until

pytestmark = pytest.mark.anyio


@dataclass
class Row:
    id: int
    event_type: str
    payload: dict[str, Any]
    remote_id: str | None = None
    errors: list[str] = field(default_factory=list)


class Table:
    """An outbox table in memory; `broken` makes the next load fail like a lost database."""

    def __init__(self, count: int) -> None:
        self.rows = [Row(n, "thing-happened", {"n": n}) for n in range(1, count + 1)]
        self.loads = 0
        self.broken = False

    def pending(self, limit: int) -> list[Row]:
        self.loads += 1
        if self.broken:
            self.broken = False
            raise RuntimeError("database away")
        return [row for row in self.rows if row.remote_id is None][:limit]

    def record(self, row: Row, outcome: Delivery) -> None:
        if outcome.error is None:
            row.remote_id = outcome.remote_id
        else:
            row.errors.append(outcome.error)

    def as_table(self) -> OutboxTable[Row]:
        def message(row: Row) -> Message:
            return Message(row.event_type, row.payload)

        return OutboxTable(pending=self.pending, message=message, record=self.record)


def outbox(table: Table, fake: FakeMediator, **options: Any) -> Outbox[Row]:
    mediator = MediatorClient("registries", base_url="http://mediator", transport=fake)
    pacing = Pacing(**{"interval": 30.0, "max_backoff": 60.0, "batch": 100, **options})
    return Outbox("test-outbox", table.as_table(), mediator, pacing)


async def test_rows_go_out_in_order_once_each() -> None:
    fake, table = FakeMediator(), Table(5)
    box = outbox(table, fake, batch=2)
    assert await box.drain_once() == 2  # one batch per round
    assert await box.drain_once() == 2
    assert await box.drain_once() == 1
    assert await box.drain_once() == 0
    assert [payload["n"] for _, _, payload in fake.published] == [1, 2, 3, 4, 5]
    assert [row.remote_id for row in table.rows] == [f"evt-{n}" for n in range(1, 6)]


async def test_a_failed_row_is_retried_before_any_later_one() -> None:
    fake, table = FakeMediator(), Table(3)
    box = outbox(table, fake)
    fake.mode = "down"
    assert await box.drain_once() == 0
    fake.mode = "failing"
    assert await box.drain_once() == 0
    first, second, third = table.rows
    assert "unreachable" in first.errors[0] and "503" in first.errors[1]
    assert second.errors == [] and third.errors == []  # never tried: nothing overtakes
    fake.mode = "up"
    assert await box.drain_once() == 3
    assert [payload["n"] for _, _, payload in fake.published] == [1, 2, 3]


async def test_notify_wakes_the_loop_and_stop_ends_it() -> None:
    fake, table = FakeMediator(), Table(0)
    box = outbox(table, fake, interval=30.0)
    box.start()
    try:
        await until(lambda: table.loads >= 1, "the first round")
        table.rows.append(Row(1, "thing-happened", {"n": 1}))
        box.notify()  # without it, the next round is 30 s away
        await until(lambda: fake.published, "the woken round")
    finally:
        await box.stop()
    loads = table.loads
    table.rows.append(Row(2, "thing-happened", {"n": 2}))
    box.notify()
    await anyio.sleep(0.1)
    assert table.loads == loads and len(fake.published) == 1  # stopped: nothing runs


async def test_a_failing_mediator_is_retried_with_growing_waits() -> None:
    fake, table = FakeMediator(), Table(1)
    fake.mode = "failing"
    box = outbox(table, fake, interval=0.01, max_backoff=0.16)
    box.start()
    try:
        await until(lambda: len(table.rows[0].errors) >= 5, "five attempts")
        started = time.monotonic()
        attempts = len(table.rows[0].errors)
        await until(lambda: len(table.rows[0].errors) >= attempts + 3, "three more attempts")
        # at the cap each wait is 0.16 s; without back-off three attempts take 0.03 s
        assert time.monotonic() - started >= 0.3
        fake.mode = "up"
        await until(lambda: table.rows[0].remote_id is not None, "delivery once up again")
    finally:
        await box.stop()


async def test_a_broken_round_does_not_end_the_loop() -> None:
    fake, table = FakeMediator(), Table(1)
    table.broken = True
    box = outbox(table, fake, interval=0.01, max_backoff=0.02)
    box.start()
    try:
        await until(lambda: table.rows[0].remote_id is not None, "delivery after the failure")
    finally:
        await box.stop()
