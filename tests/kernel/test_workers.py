"""Workers owned by the app factory: started after start-up, stopped at shutdown, restarted."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_in_process
from services.kernel.workers import Every, UntilDone, supervise
from tests.support.polling import until

pytestmark = pytest.mark.anyio


class Recorder:
    """A worker that notes what it saw, runs until cancelled, and crashes `crashes` times."""

    def __init__(self, name: str, crashes: int = 0) -> None:
        self.name = name
        self.crashes = crashes
        self.runs = 0
        self.saw_state: object = None
        self.stopped = False

    async def run(self) -> None:
        self.runs += 1
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("boom")
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped = True


async def test_workers_start_after_the_service_start_up_and_stop_at_shutdown(settings_for):
    worker = Recorder("recorder")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ready_thing = "built in start-up"
        yield
        assert worker.stopped  # workers end before the service's own shutdown

    def factory(app: FastAPI) -> Recorder:
        worker.saw_state = app.state.ready_thing
        return worker

    app = create_service_app(
        settings=settings_for("registries"),
        lifespan=lifespan,
        configure_logs=False,
        workers=[factory, lambda app: None],
    )
    async with serve_in_process(app):
        await until(lambda: worker.runs == 1, "the first run")
        assert worker.saw_state == "built in start-up"
        assert kernel_state(app).workers.running == 1  # the None factory started nothing
    assert worker.stopped and kernel_state(app).workers.running == 0


async def test_a_crashed_worker_is_logged_and_restarted(caplog):
    worker = Recorder("flaky", crashes=2)
    caplog.set_level(logging.ERROR, logger="dpi.workers")
    task = asyncio.create_task(supervise(worker, first_delay=0.01, max_delay=0.02))
    try:
        await until(lambda: worker.runs == 3, "three runs")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    crashes = [r for r in caplog.records if "worker flaky crashed" in r.getMessage()]
    assert len(crashes) == 2 and all(r.exc_info for r in crashes)
    assert worker.stopped


async def test_a_worker_that_finishes_is_not_restarted():
    class Once:
        name = "once"
        runs = 0

        async def run(self) -> None:
            self.runs += 1

    once = Once()
    await asyncio.wait_for(supervise(once, first_delay=0.01), timeout=5)
    assert once.runs == 1


async def test_every_runs_its_step_on_schedule_and_survives_a_failed_round(caplog):
    calls: list[int] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("one bad round")

    caplog.set_level(logging.ERROR, logger="dpi.workers")
    task = asyncio.create_task(supervise(Every("ticker", 0.01, step)))
    try:
        await until(lambda: len(calls) >= 3, "three calls")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert any("ticker: round failed" in r.getMessage() for r in caplog.records)


async def test_every_at_start_runs_its_first_round_before_waiting():
    calls: list[float] = []

    async def step() -> None:
        calls.append(time.monotonic())

    task = asyncio.create_task(supervise(Every("eager", 3600, step, at_start=True)))
    try:
        await until(lambda: len(calls) == 1, "one call")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    lazy_calls: list[int] = []

    async def lazy_step() -> None:
        lazy_calls.append(1)

    lazy = asyncio.create_task(supervise(Every("lazy", 3600, lazy_step)))
    await asyncio.sleep(0.05)
    lazy.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lazy
    assert lazy_calls == []


async def test_until_done_retries_expected_failures_then_ends(caplog):
    attempts: list[int] = []

    async def step() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("not up yet")

    caplog.set_level(logging.WARNING, logger="dpi.workers")
    worker = UntilDone("first-sync", 0.01, step, (ConnectionError,))
    await asyncio.wait_for(supervise(worker), timeout=5)
    assert len(attempts) == 3
    retried = [r for r in caplog.records if "first-sync failed, retrying" in r.getMessage()]
    assert len(retried) == 2


async def test_until_done_treats_an_unexpected_error_as_a_crash(caplog):
    async def step() -> None:
        raise KeyError("a bug")

    caplog.set_level(logging.ERROR, logger="dpi.workers")
    worker = UntilDone("first-sync", 0.01, step, (ConnectionError,))
    task = asyncio.create_task(supervise(worker, first_delay=0.01))
    try:
        await until(
            lambda: any("crashed" in r.getMessage() for r in caplog.records), "the crash logged"
        )
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
