"""The registries' outbox on the kernel's drainer: events published in order of creation.

While the mediator is down or refuses an event, events stay in the outbox and the oldest is
retried with back-off (kept in the row, so it survives a restart) before any later one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col

from services.kernel import outbox
from services.kernel.claims import StreamClaim
from services.kernel.db import Database
from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Delivery, Message, Outbox, OutboxTable, Pacing
from services.kernel.time import utcnow
from services.registries.events.models import OutboxEvent

EVENT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["civilRegistrationId"]}


def registries_outbox(
    *,
    database: Database,
    mediator: MediatorClient,
    pacing: Pacing,
) -> Outbox[OutboxEvent]:
    def due(limit: int) -> list[OutboxEvent]:
        """The oldest pending events, unless the oldest is still backing off (order is kept)."""
        order = [col(OutboxEvent.created_at), col(OutboxEvent.id)]
        events = outbox.oldest_undelivered(
            database, OutboxEvent, OutboxEvent.published_at, order, limit
        )
        if events and events[0].next_attempt_at > utcnow():
            return []
        return events

    def mark(row: OutboxEvent, outcome: Delivery) -> None:
        """Delivered: published; refused: the next attempt waits longer (kept over restarts)."""
        with database.session() as session:
            event = session.get(OutboxEvent, row.id)
            if event is None or event.published_at is not None:
                return
            if outcome.error is None:
                event.published_at = utcnow()
                event.mediator_event_id = outcome.remote_id
                event.last_error = None
            else:
                event.attempts += 1
                delay = min(pacing.interval * 2 ** min(event.attempts, 16), pacing.max_backoff)
                event.next_attempt_at = utcnow() + timedelta(seconds=delay)
                event.last_error = outcome.error[:500]
            session.add(event)
            session.commit()

    def message(row: OutboxEvent) -> Message:
        return Message(row.event_type, row.payload, EVENT_SCHEMA)

    return Outbox(
        "registries-outbox",
        OutboxTable(due, message, mark),
        mediator,
        pacing,
        StreamClaim(database.engine, "registries-outbox"),
    )
