"""How the writer gathers its batches: the records handed over, and the exchanges waiting for them.

An exchange hands its record over and waits for the commit of the batch that holds it (group
commit: whatever arrives while a batch is being written forms the next one). Records nobody
waits for (push deliveries) are grouped for up to the group delay. The exchanges that join one
batch share one deadline (a timer for the group, not a `wait_for` each): past it they are
refused as when their batch cannot be committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from services.interop_layer.messagelog.outage import AWAITED, WAIT_SECONDS, LogUnavailable


class Waiters(list[asyncio.Future[None]]):
    """The futures of the exchanges waiting for one batch, and the timer that refuses those still
    waiting at their deadline (armed by the first of them)."""

    __slots__ = ("deadline",)

    def __init__(self) -> None:
        super().__init__()
        self.deadline: asyncio.TimerHandle | None = None

    def expire(self) -> None:
        """The deadline: whoever still waits is refused (their records may still be written)."""
        self.deadline = None
        self.refuse()

    def refuse(self) -> None:
        for waiter in self:
            if not waiter.done():  # a cancelled wait is done already
                waiter.set_exception(LogUnavailable())

    def settled(self) -> None:
        """Every waiter has its answer: the deadline is off."""
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


class BatchGathering:
    """The writer's queue (`LogWriter` builds on it): `_pending` records, and `_waiters`, one
    future per exchange, resolved once `_pending` as it stood is committed."""

    def __init__(self, *, group_delay: float, commit_delay: float) -> None:
        self.group_delay = group_delay
        self.commit_delay = commit_delay
        self.expected = 0  # exchanges under way whose records will come (`answer_logged`)
        self._gathering: asyncio.Future[None] | None = None
        self._pending: list[dict[str, Any]] = []
        self._waiters = Waiters()  # resolved when `_pending` is committed
        self.wait_seconds = WAIT_SECONDS  # the longest an exchange waits for its record's commit
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # someone waits: no group delay
        self._stopping = False

    def submit(self, fields: dict[str, Any]) -> None:
        """Hand a record over without waiting for it (written within the flush interval)."""
        self._pending.append(fields)
        self._wake.set()

    def _awaited(self, fields: dict[str, Any]) -> asyncio.Future[None]:
        """Queue a record an exchange waits for; the future its commit resolves."""
        fields[AWAITED] = True
        self._pending.append(fields)
        # A future of its own: a request that goes away cancels only its own wait, never the
        # commit its neighbours wait for (one future each costs less than shielding a shared one).
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        waiters = self._waiters
        if not waiters:
            self._urgent.set()
            self._wake.set()
        if waiters.deadline is None:
            waiters.deadline = loop.call_later(self.wait_seconds, waiters.expire)
        waiters.append(waiter)
        self.gathered()
        return waiter

    def _enough(self) -> bool:
        """At least as many records wait as exchanges are still under way."""
        return len(self._pending) >= self.expected

    def gathered(self) -> None:
        """The batch being gathered may go once it holds at least half of the exchanges."""
        gathering = self._gathering
        if gathering is not None and self._enough() and not gathering.done():
            gathering.set_result(None)

    async def _gather(self) -> None:
        """Under load, wait (at most the commit delay) until at least half of the exchanges
        under way have handed their records over; the rest form the next batch. Waiting for
        all of them put the mediator and its providers in lock-step: every answer waited for
        the slowest exchange, and the providers sat idle during each commit. Alone, an exchange
        is written at once."""
        if self._enough() or self.commit_delay <= 0:
            return
        loop = asyncio.get_running_loop()
        gathering = self._gathering = loop.create_future()
        timer = loop.call_later(self.commit_delay, _resolve, gathering)
        try:
            await gathering
        finally:
            timer.cancel()
            self._gathering = None

    async def _next_batch(self) -> None:
        """Wait until a batch is due: records handed over, grouped while nobody waits."""
        await self._wake.wait()
        if self.group_delay > 0 and not self._urgent.is_set():
            with contextlib.suppress(TimeoutError):  # nobody waits: group for longer
                await asyncio.wait_for(self._urgent.wait(), self.group_delay)
        # The exchanges answered in this loop turn join the batch, and under load those
        # still under way; the rest form the next batch.
        await asyncio.sleep(0)
        if not self._stopping:
            await self._gather()
        self._wake.clear()
        self._urgent.clear()

    def _take(self) -> tuple[list[dict[str, Any]], Waiters]:
        """The batch to write now and the exchanges waiting for it."""
        batch, self._pending = self._pending, []
        waiters, self._waiters = self._waiters, Waiters()
        return batch, waiters

    def _committed(self, waiters: Waiters) -> None:
        """Their batch is committed: the exchanges may answer."""
        for waiter in waiters:
            if not waiter.done():  # a cancelled wait is done already
                waiter.set_result(None)
        waiters.settled()

    def _refuse(self, batch: list[dict[str, Any]], waiters: Waiters) -> None:
        """The batch could not be committed: its exchanges are refused (their records dropped),
        the records nobody waits for go first in the next batch."""
        self._pending[:0] = [fields for fields in batch if not fields.get(AWAITED)]
        waiters.settled()
        waiters.refuse()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
