"""Async tracker imports run in a kernel-owned worker; one step runs every queued job."""

from __future__ import annotations

import asyncio

import pytest

from services.kernel.db import Database
from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.tracker.bundle import ImportParams
from services.sectoral_platform.tracker.jobs import JobRunner
from tests.conftest import SHARED_POSTGRES
from tests.sectoral_platform.tracker_helpers import child

pytestmark = pytest.mark.anyio


async def test_the_job_runner_is_a_declared_worker(settings: SectoralSettings) -> None:
    app = create_app(settings)
    async with serve_in_process(app):
        assert "tracker-jobs" in kernel_state(app).workers.names
    assert kernel_state(app).workers.running == 0


async def test_one_step_runs_every_queued_job(settings: SectoralSettings) -> None:
    async with serve_in_process(create_app(settings)):
        pass  # schema and metadata in place
    database = Database(settings.database())
    store = MetadataStore(database.engine)
    store.load()
    runner = JobRunner(database.engine, store)
    try:
        uids = [
            runner.submit(
                body={"trackedEntities": [child(first=name)]},
                params=ImportParams(),
                user="M5zQapPyTZI",
                capture=None,
            )
            for name in ("Ama", "Kofi")
        ]
        assert await runner.run_pending() == 2
        for uid in uids:
            job = runner.job(uid)
            assert job is not None and job["status"] == "COMPLETED"
            assert job["report"]["status"] == "OK"
        assert await runner.run_pending() == 0
    finally:
        database.dispose()


@SHARED_POSTGRES
async def test_two_replicas_run_each_job_once(settings: SectoralSettings) -> None:
    async with serve_in_process(create_app(settings)):
        pass  # schema and metadata in place
    database = Database(settings.database())
    store = MetadataStore(database.engine)
    store.load()
    first, second = JobRunner(database.engine, store), JobRunner(database.engine, store)
    try:
        uids = [
            (first, second)[n % 2].submit(
                body={"trackedEntities": [child(first=name)]},
                params=ImportParams(),
                user="M5zQapPyTZI",
                capture=None,
            )
            for n, name in enumerate(("Ama", "Kofi", "Esi", "Yaw"))
        ]
        assert first.claim.acquire()  # the first replica is running jobs
        assert await second.run_pending() == 0  # so the second runs none (and looks again soon)
        first.claim.release()
        ran = await asyncio.gather(first.run_pending(), second.run_pending())
        assert sorted(ran) == [0, 4]  # one replica ran them all, in order, once each
        for uid in uids:
            job = first.job(uid)
            assert job is not None and job["status"] == "COMPLETED"
            assert job["report"]["status"] == "OK"
            stats = job["report"]["stats"]  # a run a second time would update, not create
            assert (stats["created"], stats["updated"]) == (4, 0)  # entity, enrollment, events
    finally:
        database.dispose()
