"""The ID system's outbox on the kernel's drainer: lifecycle events published in order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import col, select

from services.id_registry.deps import db_time
from services.id_registry.events.models import OutboxEvent
from services.kernel.db import Database
from services.kernel.mediator import MediatorClient, MediatorSession
from services.kernel.outbox import Outbox, OutboxTable

_SCHEMAS: dict[str, dict[str, Any]] = {
    "identity-created": {
        "type": "object",
        "properties": {
            "civilRegistrationId": {"type": ["string", "null"]},
            "token": {"type": "string"},
        },
    },
    "identity-deactivated": {
        "type": "object",
        "properties": {"reason": {"type": ["string", "null"]}, "token": {"type": "string"}},
    },
}


def id_registry_outbox(
    *,
    database: Database,
    mediator: MediatorClient,
    clock: Callable[[], datetime],
    interval: float,
    max_backoff: float,
) -> Outbox[OutboxEvent]:
    def pending(limit: int) -> list[OutboxEvent]:
        with database.session() as session:
            query = (
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.id))
                .limit(limit)
            )
            return list(session.exec(query).all())

    def record(row: OutboxEvent, *, remote_id: str | None, error: str | None) -> None:
        with database.session() as session:
            event = session.get(OutboxEvent, row.id)
            if event is None:
                return
            event.attempts += 1
            if error is None:
                event.published_at = db_time(clock())
                event.remote_id = remote_id
                event.last_error = None
            else:
                event.last_error = error[:300]
            session.add(event)
            session.commit()

    async def deliver(session: MediatorSession, row: OutboxEvent) -> httpx.Response:
        return await session.publish(
            row.event_type, row.payload, schema=_SCHEMAS.get(row.event_type, {})
        )

    table = OutboxTable(
        pending=pending,
        delivered=lambda row, remote_id: record(row, remote_id=remote_id, error=None),
        failed=lambda row, error: record(row, remote_id=None, error=error),
    )
    return Outbox(
        name="id_registry-outbox",
        table=table,
        deliver=deliver,
        mediator=mediator,
        interval=interval,
        max_backoff=max_backoff,
    )
