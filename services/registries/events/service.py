"""Write events to the outbox (inside the caller's transaction) and read its state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.kernel.outbox_admin import OutboxQuery, outbox_rows
from services.kernel.time import iso_micros_z
from services.registries.events.models import OutboxEvent


def enqueue(
    session: Session, *, event_type: str, source_key: str, payload: dict[str, Any]
) -> OutboxEvent:
    """Add the event to the session; it commits (or rolls back) with the change itself."""
    event = OutboxEvent(source_key=source_key, event_type=event_type, payload=payload)
    session.add(event)
    return event


def outbox_status(session: Session) -> dict[str, int]:
    pending = session.exec(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))  # type: ignore[union-attr]
    ).one()
    total = session.exec(select(func.count()).select_from(OutboxEvent)).one()
    return {"pending": pending, "published": total - pending, "total": total}


def list_events(session: Session, query: OutboxQuery) -> list[dict[str, Any]]:
    order = [col(OutboxEvent.created_at), col(OutboxEvent.id)]
    rows = outbox_rows(
        session, OutboxEvent, delivered_at=OutboxEvent.published_at, order=order, query=query
    )
    return [
        {
            "id": e.id,
            "eventType": e.event_type,
            "sourceKey": e.source_key,
            "payload": e.payload,
            "createdAt": iso_micros_z(e.created_at),
            "attempts": e.attempts,
            "lastError": e.last_error,
            "publishedAt": iso_micros_z(e.published_at) if e.published_at else None,
            "mediatorEventId": e.mediator_event_id,
        }
        for e in rows
    ]
