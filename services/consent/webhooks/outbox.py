"""Queue webhook events in the same transaction as the change that caused them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.consent.hashing import canonical_json
from services.consent.ids import new_id
from services.consent.webhooks.models import Webhook, WebhookDelivery, event_body
from services.kernel.time import iso_millis_z, utcnow


def enqueue_event(
    session: Session, *, event_type: str, data: dict[str, Any], individual_id: str | None
) -> int:
    """One delivery row per enabled webhook subscribed to the event; the caller commits."""
    webhooks = session.exec(select(Webhook).where(col(Webhook.disabled).is_(False))).all()
    now = utcnow()
    count = 0
    for webhook in webhooks:
        if event_type not in webhook.subscribed_events:
            continue
        delivery_id = new_id()
        session.add(
            WebhookDelivery(
                id=delivery_id,
                webhook_id=webhook.id,
                event_type=event_type,
                individual_id=individual_id,
                body=canonical_json(
                    event_body(event_type, data, delivery_id, iso_millis_z(now) or "")
                ),
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    return count
