"""The ID system's background work, declared here and run by the kernel's workers."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.workers import Worker, WorkerFactory


def declared(*, background: bool, subscriptions: bool) -> list[WorkerFactory]:
    """The outbox when events are published, the civil-event subscriber when also wanted."""

    def outbox(app: FastAPI) -> Worker | None:
        drainer: Worker = app.state.drainer
        return drainer if background else None

    def subscriber(app: FastAPI) -> Worker | None:
        wanted: Worker = app.state.subscriber
        return wanted if background and subscriptions else None

    return [outbox, subscriber]
