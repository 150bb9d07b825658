"""The consent service's background work, declared here and run by the kernel's workers."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from services.consent.runtime import ConsentRuntime
from services.consent.seed import seed
from services.consent.settings import ConsentSettings
from services.consent.webhooks.service import deliver_due
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.workers import Every, UntilDone, Worker, WorkerFactory

log = logging.getLogger("dpi.consent.workers")
CHECKPOINT_SECONDS = 1.0


class SchemaPending(Exception):
    """The database answered no schema at start-up; the seed waits for it."""


def declared(settings: ConsentSettings) -> list[WorkerFactory]:
    """Each factory runs after start-up; None where there is nothing to do."""

    def webhooks(app: FastAPI) -> Worker:
        """Delivers due webhook events every `webhook_interval` seconds."""
        database = kernel_state(app).database

        async def step() -> None:
            try:
                with database.session() as session:
                    await deliver_due(session, max_attempts=settings.webhook_max_attempts)
            except SQLAlchemyError:
                log.warning("database unavailable, retrying", exc_info=True)

        return Every("webhook-delivery", settings.webhook_interval, step, at_start=True)

    def late_seed(app: FastAPI) -> Worker | None:
        """Seeds once the database has a schema (it may start after us); start-up seeded
        already when it had one."""
        if not settings.seed or kernel_state(app).schema_ready:
            return None
        database = kernel_state(app).database

        async def step() -> None:
            if not kernel_state(app).schema_ready:
                raise SchemaPending("no schema yet")
            with database.session() as session:
                seed(session, settings)

        expected = (SQLAlchemyError, SchemaPending)
        return UntilDone("consent-seed", settings.webhook_interval, step, expected)

    def checkpoints(app: FastAPI) -> Worker | None:
        """On SQLite, checkpoints the decision log's WAL aside from its commits."""
        decisions = runtime_of(app, ConsentRuntime).decision_log
        if not decisions.store.dialect.is_sqlite:
            return None

        async def step() -> None:
            await asyncio.to_thread(decisions.store.checkpoint)

        return Every("decision-log-checkpoints", CHECKPOINT_SECONDS, step)

    return [late_seed, webhooks, checkpoints]
