"""Background work a service declares and the kernel's app factory owns: started after the
service's start-up, stopped before its shutdown, restarted with back-off when it crashes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from services.kernel.outage import database_unreachable, log_failure

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("dpi.workers")

FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0
OUTAGE_RESTART_DELAY = 2.0  # the longest wait after a crash while the database is unreachable


class Worker(Protocol):
    """A loop: `run` returns when the work is done (or never); an exception is a crash."""

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...


# Called once the service's own start-up has run; None: not wanted with these settings.
WorkerFactory = Callable[["FastAPI"], Worker | None]


async def supervise(
    worker: Worker,
    *,
    first_delay: float = FIRST_RESTART_DELAY,
    max_delay: float = MAX_RESTART_DELAY,
) -> None:
    """Run `worker`; a crash is logged and the worker restarted after a growing delay."""
    delay = first_delay
    while True:
        try:
            await worker.run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if database_unreachable(exc):  # back as soon as the database is
                delay = min(delay, OUTAGE_RESTART_DELAY)
            log_failure(log, exc, "worker %s crashed; restarting in %.1f s", worker.name, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)


@dataclass
class Every:
    """A worker that runs `step` every `interval` seconds (the first round at once when
    `at_start`); a failed round is logged, not fatal."""

    name: str
    interval: float
    step: Callable[[], Awaitable[object]]
    at_start: bool = False

    async def run(self) -> None:
        wait = 0.0 if self.at_start else self.interval
        while True:
            await asyncio.sleep(wait)
            wait = self.interval
            try:
                await self.step()
            except Exception as exc:  # the schedule outlives one bad round
                log_failure(log, exc, "%s: round failed", self.name)


@dataclass
class UntilDone:
    """A worker that runs `step` until it succeeds, every `retry` seconds while it raises one of
    `expected` (a warning); anything else is a crash."""

    name: str
    retry: float
    step: Callable[[], Awaitable[object]]
    expected: tuple[type[Exception], ...] = (Exception,)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
                return
            except self.expected as exc:
                log.warning("%s failed, retrying: %s", self.name, exc)
            await asyncio.sleep(self.retry)


class Workers:
    """The running workers of one app (or of one standalone component)."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, workers: Iterable[Worker]) -> None:
        for worker in workers:
            task = asyncio.create_task(supervise(worker), name=f"worker:{worker.name}")
            self._tasks.append(task)

    @property
    def running(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    @property
    def names(self) -> list[str]:
        """The names of the workers still running."""
        return [t.get_name().removeprefix("worker:") for t in self._tasks if not t.done()]

    async def stop(self) -> None:
        """Cancel every worker and wait for each to end (a worker's `finally` runs)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
