"""Recording lifecycle events in the outbox, in the same transaction as the change they report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.id_registry.events.models import OutboxEvent, OutboxEventPublic, public
from services.id_registry.identities.models import Identity
from services.id_registry.partners.models import PARTNER_ACTIVE, Partner
from services.id_registry.psuts.store import issue_token
from services.kernel.outbox_admin import OutboxQuery, outbox_rows


def per_subscriber_tokens(
    *, session: Session, secret: bytes, identity: Identity, now: datetime
) -> dict[str, dict[str, Any]]:
    """Each active partner's own PSUT for the person; the mediator hands each only its own."""
    partners = session.exec(select(Partner.partner_id).where(Partner.status == PARTNER_ACTIVE))
    return {
        partner_id: {
            "token": issue_token(
                session=session, secret=secret, identity=identity, partner_id=partner_id, now=now
            )
        }
        for partner_id in partners.all()
    }


def enqueue(*, session: Session, event_type: str, payload: dict[str, Any], now: datetime) -> None:
    """Add an event to the outbox; the caller commits it together with the change."""
    session.add(OutboxEvent(event_type=event_type, payload=payload, created_at=now))


def list_outbox(*, session: Session, query: OutboxQuery) -> list[OutboxEventPublic]:
    order = [col(OutboxEvent.id)]
    rows = outbox_rows(
        session, OutboxEvent, delivered_at=OutboxEvent.published_at, order=order, query=query
    )
    return [public(row) for row in rows]
