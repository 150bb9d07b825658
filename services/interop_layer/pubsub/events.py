"""Publishing (with the outbox of deliveries), pulling, acknowledging, redelivering."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonschema
from sqlmodel import Session, col, select

from services.interop_layer.errors import BadRequest, Conflict, NotFound
from services.interop_layer.identifiers import SubsystemId
from services.interop_layer.pubsub.models import (
    ACKED,
    CANCELLED,
    DEAD,
    DELIVERED,
    EXPIRED,
    PENDING,
    Delivery,
    DeliveryPublic,
    Event,
    Subscription,
)
from services.interop_layer.pubsub.rooms import require_event_type, require_subscription
from services.kernel.credentials import partner_id
from services.kernel.national_ids import national_id_path
from services.kernel.time import utcnow


def unwrap(body: Any, event_type: str) -> dict[str, Any]:
    """The event payload: the body itself, or `event` of a GovStack `PublishEvent` wrapper."""
    if not isinstance(body, dict):
        raise BadRequest("The event must be a JSON object.")
    if set(body) == {"eventType", "event"} and isinstance(body["event"], dict):
        if body["eventType"] != event_type:
            raise BadRequest("eventType in the body differs from the one in the path.")
        return body["event"]
    return body


def publish(
    *,
    session: Session,
    room: str,
    event_type: str,
    publisher: str,
    payload: dict[str, Any],
    x_road_id: str,
    trace_id: str | None,
    may_receive: Callable[[str], bool] | None = None,
) -> Event:
    """Store the event and one pending delivery per subscription whose subscriber `may_receive`
    it (holds the `sub` right now), in one transaction."""
    declared = require_event_type(session=session, room=room, name=event_type)
    if national_id_path(payload) is not None:
        raise BadRequest("Events must not carry national ID numbers (uin/vid): use tokens.")
    try:
        jsonschema.validate(payload, declared.schema_)
    except jsonschema.ValidationError as exc:
        raise BadRequest(
            f"The event does not match the {event_type!r} schema: {exc.message}"
        ) from exc
    event = Event(
        id=str(uuid.uuid4()),
        room=room,
        event_type=event_type,
        publisher=publisher,
        payload=payload,
        x_road_id=x_road_id,
        trace_id=trace_id,
    )
    session.add(event)
    session.flush()
    assert event.sequence is not None
    subs = session.exec(
        select(Subscription).where(Subscription.room == room, Subscription.event_type == event_type)
    )
    for sub in subs:
        if may_receive is None or may_receive(sub.subscriber):
            session.add(
                Delivery(subscription_id=sub.id, event_seq=event.sequence, event_id=event.id)
            )
    session.commit()
    return event


def payload_for(event: Event, subscriber: str) -> dict[str, Any]:
    """The payload as `subscriber` sees it: only its own `perSubscriber` part, merged in."""
    payload = dict(event.payload)
    per = payload.pop("perSubscriber", None)
    if isinstance(per, dict):
        own = per.get(partner_id(subscriber))
        if isinstance(own, dict):
            payload.update(own)
    return payload


def event_item(event: Event, subscriber: str | None = None) -> dict[str, Any]:
    payload = payload_for(event, subscriber) if subscriber else dict(event.payload)
    return {
        "id": event.id,
        "sequence": event.sequence,
        "publisherId": SubsystemId.parse(event.publisher).govstack(),
        "eventType": event.event_type,
        "event": payload,
    }


def find_event(*, session: Session, room: str, event_type: str, event_id: str) -> Event:
    event = session.exec(
        select(Event).where(
            Event.id == event_id, Event.room == room, Event.event_type == event_type
        )
    ).first()
    if event is None:
        raise NotFound(f"No event {event_id} of type {event_type!r} in room {room}.")
    return event


def event_status(*, session: Session, event: Event) -> dict[str, Any]:
    deliveries = session.exec(select(Delivery).where(Delivery.event_id == event.id))
    counts: dict[str, int] = {}
    for delivery in deliveries:
        counts[delivery.state] = counts.get(delivery.state, 0) + 1
    return {**event_item(event), "cancelled": event.cancelled, "deliveries": counts}


def cancel_event(*, session: Session, event: Event) -> None:
    event.cancelled = True
    session.add(event)
    _finish(session, select(Delivery).where(Delivery.event_id == event.id), CANCELLED)
    session.commit()


def cancel_deliveries(*, session: Session, subscription_id: str) -> None:
    query = select(Delivery).where(Delivery.subscription_id == subscription_id)
    _finish(session, query, CANCELLED)


def unsubscribe(*, session: Session, room: str, event_type: str, subscriber: str) -> None:
    """Remove the subscription; its undelivered events are dropped with it."""
    sub = require_subscription(
        session=session, room=room, event_type=event_type, subscriber=subscriber
    )
    cancel_deliveries(session=session, subscription_id=sub.id)
    session.delete(sub)
    session.commit()


def _finish(session: Session, query: Any, state: str) -> None:
    now = utcnow()
    for delivery in session.exec(query.where(Delivery.state == PENDING)):
        delivery.state, delivery.done_at, delivery.updated_at = state, now, now
        session.add(delivery)


def expired(delivery: Delivery, sub: Subscription) -> bool:
    return delivery.live_from + timedelta(seconds=sub.ttl) < utcnow()


def pull(*, session: Session, room: str, event_type: str, subscriber: str) -> dict[str, Any]:
    """The oldest unacknowledged event; it stays there until acknowledged (at least once)."""
    sub = require_subscription(
        session=session, room=room, event_type=event_type, subscriber=subscriber
    )
    if sub.delivery != "PULL":
        raise Conflict(f"The subscription to {event_type!r} is PUSH, not PULL.")
    rows = session.exec(
        select(Delivery, Event)
        .join(Event, col(Event.sequence) == col(Delivery.event_seq))
        .where(Delivery.subscription_id == sub.id, Delivery.state == PENDING)
        .order_by(col(Delivery.event_seq))
    )
    now = utcnow()
    for delivery, event in rows:
        if expired(delivery, sub):
            delivery.state, delivery.done_at = EXPIRED, now
            session.add(delivery)
            continue
        delivery.attempts += 1
        delivery.updated_at = now
        session.add(delivery)
        session.commit()
        return event_item(event, subscriber)
    session.commit()
    raise NotFound(f"No unacknowledged {event_type!r} event in room {room}.")


def acknowledge(
    *, session: Session, room: str, event_type: str, subscriber: str, event_id: str
) -> None:
    sub = require_subscription(
        session=session, room=room, event_type=event_type, subscriber=subscriber
    )
    delivery = session.exec(
        select(Delivery).where(
            Delivery.subscription_id == sub.id,
            Delivery.event_id == event_id,
            Delivery.state == PENDING,
        )
    ).first()
    if delivery is None:
        raise NotFound(f"No unacknowledged event {event_id} for this subscription.")
    delivery.state, delivery.done_at, delivery.updated_at = ACKED, utcnow(), utcnow()
    session.add(delivery)
    session.commit()


def public_delivery(delivery: Delivery) -> DeliveryPublic:
    return DeliveryPublic.model_validate(
        {**delivery.model_dump(), "event_sequence": delivery.event_seq}
    )


def list_deliveries(
    *, session: Session, state: str | None, subscription_id: str | None, limit: int
) -> list[Delivery]:
    query = select(Delivery)
    if state:
        query = query.where(Delivery.state == state)
    if subscription_id:
        query = query.where(Delivery.subscription_id == subscription_id)
    return list(session.exec(query.order_by(col(Delivery.id)).limit(limit)))


def redeliver(
    *, session: Session, delivery_ids: list[int] | None, subscription_id: str | None
) -> int:
    """Put dead, expired or delivered deliveries back in the queue, attempts reset."""
    query = select(Delivery).where(col(Delivery.state).in_([DEAD, EXPIRED, DELIVERED, ACKED]))
    if delivery_ids is not None:
        query = query.where(col(Delivery.id).in_(delivery_ids))
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    count = 0
    now = utcnow()
    for delivery in session.exec(query):
        delivery.state, delivery.attempts, delivery.next_attempt_at = PENDING, 0, now
        delivery.live_from = now
        delivery.done_at, delivery.last_error, delivery.updated_at = None, None, now
        session.add(delivery)
        count += 1
    session.commit()
    return count
