"""The ID system's background work, declared here and run by the kernel's workers."""

from __future__ import annotations

from fastapi import FastAPI

from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import runtime_of
from services.kernel.workers import Worker, WorkerFactory


def declared(*, background: bool, subscriptions: bool) -> list[WorkerFactory]:
    """The outbox when events are published, the civil-event subscriber when also wanted."""

    def outbox(app: FastAPI) -> Worker | None:
        return runtime_of(app, IdRegistryRuntime).drainer if background else None

    def subscriber(app: FastAPI) -> Worker | None:
        wanted = background and subscriptions
        return runtime_of(app, IdRegistryRuntime).subscriber if wanted else None

    return [outbox, subscriber]
