"""Webhook CRUD and delivery of queued events (at-least-once, HMAC-signed)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import httpx
from sqlmodel import Session, col, select

from services.consent.ids import check_id, new_id
from services.consent.webhooks.models import EVENTS, Webhook, WebhookBase, WebhookDelivery
from services.kernel.errors import BadRequest, NotFound
from services.kernel.http import make_client
from services.kernel.time import utcnow

SIGNATURE_HEADER = "X-ConsentBB-Signature"


def _check_events(data: WebhookBase) -> None:
    unknown = sorted(set(data.subscribedEvents) - set(EVENTS))
    if unknown:
        raise BadRequest(
            f"Unknown event(s) {', '.join(unknown)}; known: {', '.join(EVENTS)}.",
            code="unknown-event",
        )


def get_webhook(session: Session, *, webhook_id: str) -> Webhook:
    webhook = session.get(Webhook, check_id(webhook_id, "webhookId"))
    if webhook is None:
        raise NotFound(f"No webhook {webhook_id}.", code="webhook-not-found")
    return webhook


def create_webhook(session: Session, *, data: WebhookBase) -> Webhook:
    _check_events(data)
    webhook = Webhook(
        id=new_id(),
        payload_url=data.payloadUrl,
        content_type=data.contentType,
        disabled=data.disabled,
        secret_key=data.secretKey,
        subscribed_events=list(data.subscribedEvents),
        created_at=utcnow(),
    )
    session.add(webhook)
    session.commit()
    return webhook


def update_webhook(session: Session, *, webhook_id: str, data: WebhookBase) -> Webhook:
    _check_events(data)
    webhook = get_webhook(session, webhook_id=webhook_id)
    webhook.payload_url = data.payloadUrl
    webhook.content_type = data.contentType
    webhook.disabled = data.disabled
    webhook.secret_key = data.secretKey
    webhook.subscribed_events = list(data.subscribedEvents)
    session.add(webhook)
    session.commit()
    return webhook


def delete_webhook(session: Session, *, webhook_id: str) -> None:
    webhook = get_webhook(session, webhook_id=webhook_id)
    session.delete(webhook)
    session.commit()


def list_webhooks(session: Session, *, offset: int, limit: int) -> list[Webhook]:
    statement = (
        select(Webhook)
        .order_by(col(Webhook.created_at), col(Webhook.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))


def sign_body(secret: str, body: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


async def deliver_due(
    session: Session,
    *,
    max_attempts: int,
    transport: httpx.AsyncBaseTransport | None = None,
    batch: int = 50,
) -> int:
    """Try due deliveries once each, oldest first, up to `batch`; returns how many were delivered.

    Each is claimed on its own (row-locked, skipping rows other replicas hold, on PostgreSQL) and
    its outcome committed before the next, so two replicas never push the same delivery and a
    killed replica pushes again only the one it had in flight."""
    delivery = _next_due(session, max_attempts)
    if delivery is None:  # the common case: no client (and no TLS context) is built
        session.commit()
        return 0
    delivered = tried = 0
    async with make_client(timeout=5.0, transport=transport) as client:
        while delivery is not None:
            delivered += await _deliver(session, client, delivery, max_attempts)
            session.commit()
            tried += 1
            delivery = _next_due(session, max_attempts) if tried < batch else None
    return delivered


def _next_due(session: Session, max_attempts: int) -> WebhookDelivery | None:
    query = (
        select(WebhookDelivery)
        .where(
            col(WebhookDelivery.delivered_at).is_(None),
            col(WebhookDelivery.next_attempt_at) <= utcnow(),
            col(WebhookDelivery.attempts) < max_attempts,
        )
        .order_by(col(WebhookDelivery.created_at))
        .limit(1)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).first()


async def _deliver(
    session: Session, client: httpx.AsyncClient, delivery: WebhookDelivery, max_attempts: int
) -> int:
    """One attempt; 1 when it was delivered. The caller commits the outcome."""
    webhook = session.get(Webhook, delivery.webhook_id)
    if webhook is None or webhook.disabled:
        delivery.attempts = max_attempts
        delivery.last_error = "webhook removed or disabled"
        session.add(delivery)
        return 0
    headers = {
        "Content-Type": webhook.content_type,
        "X-ConsentBB-Event": delivery.event_type,
        "X-ConsentBB-Delivery": delivery.id,
        SIGNATURE_HEADER: sign_body(webhook.secret_key, delivery.body),
    }
    error: str | None = None
    try:
        response = await client.post(webhook.payload_url, content=delivery.body, headers=headers)
        if not response.is_success:
            error = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivery.attempts += 1
    if error is None:
        delivery.delivered_at = utcnow()
        delivery.last_error = None
    else:
        delivery.last_error = error[:500]
        delivery.next_attempt_at = utcnow() + timedelta(seconds=min(2**delivery.attempts, 300))
    session.add(delivery)
    return 1 if error is None else 0
