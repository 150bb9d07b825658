"""The mediator's background work, declared here and run by the kernel's workers."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from services.interop_layer.runtime import InteropRuntime
from services.interop_layer.settings import InteropSettings
from services.kernel.runtime import runtime_of
from services.kernel.time import utcnow
from services.kernel.workers import Every, Worker, WorkerFactory

RETENTION_CHECK_SECONDS = 3600.0


def declared(settings: InteropSettings) -> list[WorkerFactory]:
    """Each factory runs after start-up; None where the settings turn the work off.

    The message-log writer and the pub/sub push dispatcher keep their own tasks: both finish
    the batch in progress at shutdown instead of being cancelled."""

    def retention(app: FastAPI) -> Worker | None:
        """Purges records older than the retention period, hourly (the chain stays verifiable)."""
        days = settings.message_log_retention_days
        if days <= 0:
            return None
        writer = runtime_of(app, InteropRuntime).message_log

        async def step() -> None:
            await writer.purge(before=utcnow() - timedelta(days=days))

        return Every("message-log-retention", RETENTION_CHECK_SECONDS, step, at_start=True)

    return [retention]
