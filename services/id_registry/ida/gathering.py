"""Gathering IDA transactions into batches on PostgreSQL: the requests read in one event-loop turn
(and the next) make one batch, and at most one batch per lane is in flight; the requests that
arrive meanwhile wait for the next free lane. How a batch runs is the subclass's (`batches`: on a
lane's worker thread; `loopbatches`: on the event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from services.id_registry.ida.store import Hot

T = TypeVar("T")
L = TypeVar("L")
Job = Callable[[Hot], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, exception)

LANES = 2  # batches in flight: one's statements overlap the other's commit (its WAL flush)


class Gathering(Generic[L]):
    """Runs IDA transactions in batches, one per lane at a time."""

    def __init__(self, lanes: list[L]) -> None:
        self._lanes = lanes
        self._free = list(lanes)
        self._waiting: list[tuple[Job, asyncio.Future[Any]]] = []
        self._uins: list[str] = []
        self._scheduled = False
        self.commits = 0
        self.members = 0
        self.retried = 0

    async def run(self, job: Callable[[Hot], T], *, uin: str | None = None) -> T:
        """`job`'s result once the transaction holding its writes is committed; the person of
        `uin` (the request's, if any) is read with the batch's others, in one statement."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((job, future))
        if uin is not None:
            self._uins.append(uin)
        self.members += 1
        if self._free and not self._scheduled:
            self._scheduled = True
            # One more loop turn, so the requests read in this one join the batch.
            loop.call_soon(loop.call_soon, self._start, loop)
        # A cancelled request cancels only its own future: its job stays in the batch, is run
        # and committed with the others (`_finish` skips a future already done).
        return await future

    def _launch(
        self, loop: asyncio.AbstractEventLoop, lane: L, jobs: list[Job], uins: list[str]
    ) -> asyncio.Future[list[Outcome]]:
        """Start running `jobs` as one batch on `lane`: the future of their outcomes."""
        raise NotImplementedError

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        if not self._waiting or not self._free:
            return  # a lane that frees up starts the waiting requests
        lane = self._free.pop()
        batch, self._waiting = self._waiting, []
        uins, self._uins = self._uins, []
        done = self._launch(loop, lane, [job for job, _ in batch], uins)
        done.add_done_callback(lambda finished: self._finish(loop, lane, batch, finished))

    def _finish(
        self,
        loop: asyncio.AbstractEventLoop,
        lane: L,
        batch: list[tuple[Job, asyncio.Future[Any]]],
        finished: asyncio.Future[list[Outcome]],
    ) -> None:
        self._free.append(lane)
        cancelled = finished.cancelled()  # the loop closing under a batch on it
        error = asyncio.CancelledError() if cancelled else finished.exception()
        outcomes = finished.result() if error is None else [(False, error)] * len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        if self._waiting and not self._scheduled:
            self._start(loop)
