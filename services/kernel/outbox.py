"""One outbox drainer for every service: publishes pending rows through the mediator, oldest
first, at least once; a failed row stops the round so nothing overtakes it.

With several replicas on one PostgreSQL database, a round runs only in the replica holding the
outbox's `StreamClaim`: one publisher at a time keeps the order, and every row is recorded as
published (committed) before the next goes out, so a replica killed mid-round publishes again
at most the one row it had in flight (receivers deduplicate by event id: at least once).

The service keeps its own table and says how to load pending rows, what each publishes and how
to record the outcome; the kernel owns the order, the retry back-off and the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from anyio import to_thread
from sqlmodel import SQLModel, col, select

from services.kernel.claims import StreamClaim
from services.kernel.db import Database
from services.kernel.mediator import PUBLISHED, MediatorClient, MediatorSession, published_id
from services.kernel.outage import log_failure
from services.kernel.workers import Workers

log = logging.getLogger("dpi.outbox")

Row = TypeVar("Row")
M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class Message:
    """What one outbox row publishes in the service's own room."""

    event_type: str
    payload: Any
    schema: Mapping[str, Any] | None = None  # declared with the event type on first use


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one attempt: the mediator's id for the event, or what went wrong."""

    remote_id: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxTable(Generic[Row]):
    """How a service's outbox table is read and written (plain functions, run in a thread)."""

    pending: Callable[[int], list[Row]]  # the oldest undelivered rows that are due, in order
    message: Callable[[Row], Message]
    record: Callable[[Row, Delivery], None]  # marks the row delivered, or counts the failure


@dataclass(frozen=True, slots=True)
class Pacing:
    """Seconds between rounds, the cap of the back-off after failures, rows per round."""

    interval: float
    max_backoff: float
    batch: int = 100


def oldest_undelivered(
    database: Database,
    model: type[M],
    delivered_at: Any,
    order: Sequence[Any],
    limit: int,
) -> list[M]:
    """Rows of a service's outbox model whose `delivered_at` column is empty, in `order`."""
    query = select(model).where(col(delivered_at).is_(None)).order_by(*order).limit(limit)
    with database.session() as session:
        return list(session.exec(query).all())


@dataclass(frozen=True, slots=True)
class _Round:
    delivered: int
    failed: bool
    full: bool


class Outbox(Generic[Row]):
    """`notify()` wakes it (from any thread); `drain_once()` runs one round; `run()` is the loop
    a kernel worker runs; `start()`/`stop()` run it standalone. `claim`: shared with the
    service's other replicas (None: this process is the only publisher)."""

    def __init__(
        self,
        name: str,
        table: OutboxTable[Row],
        mediator: MediatorClient,
        pacing: Pacing,
        claim: StreamClaim | None = None,
    ) -> None:
        self.name = name
        self.claim = claim
        self.table = table
        self.mediator = mediator
        self.interval = pacing.interval
        self.max_backoff = max(pacing.max_backoff, pacing.interval)
        self.batch = pacing.batch
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers = Workers()

    def notify(self) -> None:
        """Drain now rather than at the next tick; safe from worker threads."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def drain_once(self) -> int:
        """Deliver due rows in order until one fails; returns how many went out."""
        async with self._lock:
            return (await self._round()).delivered

    async def _round(self) -> _Round:
        if self.claim is None:
            return await self._claimed_round()
        if not await to_thread.run_sync(self.claim.acquire):
            return _Round(0, failed=False, full=False)  # another replica is publishing
        try:
            return await self._claimed_round()
        finally:
            await to_thread.run_sync(self.claim.release)

    async def _claimed_round(self) -> _Round:
        rows = await to_thread.run_sync(self.table.pending, self.batch)
        if not rows:
            return _Round(0, failed=False, full=False)
        delivered = 0
        async with self.mediator.session() as session:
            for row in rows:
                error = await self._deliver(session, row)
                if error is not None:
                    log.warning("%s: not delivered yet: %s", self.name, error)
                    return _Round(delivered, failed=True, full=False)
                delivered += 1
        return _Round(delivered, failed=False, full=len(rows) == self.batch)

    async def _deliver(self, session: MediatorSession, row: Row) -> str | None:
        message = self.table.message(row)
        try:
            response = await session.publish(
                message.event_type, message.payload, schema=message.schema
            )
        except httpx.HTTPError as exc:
            outcome = Delivery(error=f"mediator unreachable: {type(exc).__name__}: {exc}")
        else:
            if response.status_code in PUBLISHED:
                outcome = Delivery(remote_id=published_id(response))
            else:
                status, text = response.status_code, response.text[:200]
                outcome = Delivery(error=f"mediator answered {status}: {text}")
        await to_thread.run_sync(self.table.record, row, outcome)
        return outcome.error

    async def run(self) -> None:
        """Drain on every wake-up or tick; after a failed round wait longer, up to the cap."""
        self._loop = asyncio.get_running_loop()
        wait = self.interval
        while True:
            self._wake.clear()
            try:
                async with self._lock:
                    result = await self._round()
            except Exception as exc:  # a broken round (the database away) must not end the loop
                log_failure(log, exc, "%s: drain failed", self.name)
                result = _Round(0, failed=True, full=False)
            if result.full:
                continue  # a full batch went out: more may be waiting
            wait = min(wait * 2, self.max_backoff) if result.failed else self.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def start(self) -> None:
        """Run the loop as a supervised task of its own (the app factory's workers do this)."""
        self._loop = asyncio.get_running_loop()
        self._workers.start([self])

    async def stop(self) -> None:
        await self._workers.stop()
