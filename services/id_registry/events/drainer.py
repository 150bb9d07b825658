"""The ID system's outbox on the kernel's drainer: lifecycle events published in order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import col

from services.id_registry.events.models import OutboxEvent
from services.kernel import outbox
from services.kernel.claims import StreamClaim
from services.kernel.db import Database
from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Delivery, Message, Outbox, OutboxTable, Pacing
from services.kernel.time import as_utc

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
    pacing: Pacing,
) -> Outbox[OutboxEvent]:
    def pending(limit: int) -> list[OutboxEvent]:
        order = [col(OutboxEvent.id)]
        return outbox.oldest_undelivered(
            database, OutboxEvent, OutboxEvent.published_at, order, limit
        )

    def record(row: OutboxEvent, outcome: Delivery) -> None:
        with database.session() as session:
            event = session.get(OutboxEvent, row.id)
            if event is None:
                return
            event.attempts += 1
            event.last_error = None if outcome.error is None else outcome.error[:300]
            if outcome.error is None:
                event.published_at = as_utc(clock())
                event.remote_id = outcome.remote_id
            session.add(event)
            session.commit()

    def message(row: OutboxEvent) -> Message:
        return Message(row.event_type, row.payload, _SCHEMAS.get(row.event_type, {}))

    table = OutboxTable(pending, message, record)
    return Outbox(
        "id_registry-outbox",
        table,
        mediator,
        pacing,
        StreamClaim(database.engine, "id_registry-outbox"),
    )
