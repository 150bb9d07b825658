"""The health platform's background work, declared here and run by the kernel's workers."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from services.kernel.claims import StreamClaim
from services.kernel.mediator import MediatorClient
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.workers import Every, UntilDone, Worker, WorkerFactory
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.events.civil import birth_subscriber
from services.sectoral_platform.facility_registry.sync import RegistryUnavailable
from services.sectoral_platform.runtime import SectoralRuntime
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.tracker_counts.service import aggregate

log = logging.getLogger("dpi.sectoral_platform.workers")


def declared(settings: SectoralSettings, mediator: MediatorClient) -> list[WorkerFactory]:
    """Each factory runs after start-up; None where the settings turn the work off."""

    def verification(app: FastAPI) -> Worker:
        """Retries pending ID checks."""
        registrar = runtime_of(app, SectoralRuntime).registrar
        return Every("identity-verification", settings.verify_interval_seconds,
                     registrar.verify_pending)  # fmt: skip

    def tracker_counts(app: FastAPI) -> Worker | None:
        """Re-aggregates every `aggregation_interval_seconds` (0: only on demand)."""
        engine = kernel_state(app).database.engine
        store = runtime_of(app, SectoralRuntime).metadata
        claim = StreamClaim(engine, "sectoral_platform-tracker-aggregation")

        async def step() -> None:
            if not await run_in_threadpool(claim.acquire):
                return  # another replica is aggregating now
            try:
                summary = await run_in_threadpool(lambda: aggregate(engine=engine, store=store))
            finally:
                await run_in_threadpool(claim.release)
            log.info("tracker aggregation: %s", summary.get("importCount"))

        interval = settings.aggregation_interval_seconds
        return Every("tracker-aggregation", interval, step) if interval > 0 else None

    def outbox(app: FastAPI) -> Worker | None:
        return (
            runtime_of(app, SectoralRuntime).outbox if settings.drain_interval_seconds > 0 else None
        )

    def births(_: FastAPI) -> Worker | None:
        if not settings.subscribe_civil_events:
            return None
        return birth_subscriber(mediator, settings.facility_sync_retry_seconds)

    def facilities(app: FastAPI) -> Worker | None:
        """Syncs once at start, retrying until the registry answers (it may start later)."""
        sync = runtime_of(app, SectoralRuntime).facility_sync

        async def step() -> None:
            log.info("facility registry sync: %s", await sync.run())

        retry = settings.facility_sync_retry_seconds
        expected = (RegistryUnavailable, Dhis2Error)
        worker = UntilDone("facility-registry-sync", retry, step, expected)
        return worker if settings.facility_sync_on_start else None

    def tracker_jobs(app: FastAPI) -> Worker:
        """Runs accepted async tracker imports, those left by a stopped process first."""
        return runtime_of(app, SectoralRuntime).tracker_jobs

    return [tracker_jobs, verification, tracker_counts, outbox, births, facilities]
