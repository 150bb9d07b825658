"""How the writer gathers its batches: the records handed over, and the exchanges waiting for them.

An exchange hands its record over and waits for the commit of the batch that holds it (group
commit: whatever arrives while a batch is being written forms the next one). Records nobody
waits for (push deliveries) are grouped for up to the group delay.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from services.interop_layer.messagelog.outage import AWAITED, LogUnavailable


class BatchGathering:
    """The writer's queue (`LogWriter` builds on it): `_pending` records, and `_waiters`, one
    future per exchange, resolved once `_pending` as it stood is committed."""

    def __init__(self, *, group_delay: float, commit_delay: float) -> None:
        self.group_delay = group_delay
        self.commit_delay = commit_delay
        self.expected = 0  # exchanges under way whose records will come (`answer_logged`)
        self._gathering: asyncio.Future[None] | None = None
        self._pending: list[dict[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []  # resolved when `_pending` is committed
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
        waiter = asyncio.get_running_loop().create_future()
        if not self._waiters:
            self._urgent.set()
            self._wake.set()
        self._waiters.append(waiter)
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

    def _take(self) -> tuple[list[dict[str, Any]], list[asyncio.Future[None]]]:
        """The batch to write now and the exchanges waiting for it."""
        batch, self._pending = self._pending, []
        waiters, self._waiters = self._waiters, []
        return batch, waiters

    def _refuse(self, batch: list[dict[str, Any]], waiters: list[asyncio.Future[None]]) -> None:
        """The batch could not be committed: its exchanges are refused (their records dropped),
        the records nobody waits for go first in the next batch."""
        self._pending[:0] = [fields for fields in batch if not fields.get(AWAITED)]
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(LogUnavailable())

    def _put_back(self, batch: list[dict[str, Any]], waiters: list[asyncio.Future[None]]) -> None:
        """The batch was never written (cancelled): it goes first in the next one, in order."""
        self._pending[:0] = batch
        self._waiters[:0] = waiters  # its waiters wait for the retry


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
