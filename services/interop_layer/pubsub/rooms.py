"""A room's event types and its subscriptions."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema
from sqlmodel import Session, col, select

from services.interop_layer.errors import BadRequest, Conflict, NotFound
from services.interop_layer.identifiers import SubsystemId
from services.interop_layer.pubsub.models import (
    EventType,
    EventTypeCreate,
    Subscription,
    SubscriptionCreate,
)


def event_types(*, session: Session, room: str) -> list[EventType]:
    query = select(EventType).where(EventType.room == room).order_by(col(EventType.event_type))
    return list(session.exec(query))


def find_event_type(*, session: Session, room: str, name: str) -> EventType | None:
    return session.exec(
        select(EventType).where(EventType.room == room, EventType.event_type == name)
    ).first()


def require_event_type(*, session: Session, room: str, name: str) -> EventType:
    found = find_event_type(session=session, room=room, name=name)
    if found is None:
        raise NotFound(f"Unknown event type {name!r} in room {room}.")
    return found


def create_event_type(*, session: Session, room: str, data: EventTypeCreate) -> EventType:
    try:
        jsonschema.Draft202012Validator.check_schema(data.schema_)
    except jsonschema.SchemaError as exc:
        raise BadRequest(
            f"The event type's schema is not a valid JSON Schema: {exc.message}"
        ) from exc
    if find_event_type(session=session, room=room, name=data.event_type) is not None:
        raise Conflict(f"Event type {data.event_type!r} already exists in room {room}.")
    created = EventType(
        id=str(uuid.uuid4()), room=room, event_type=data.event_type, schema_=data.schema_
    )
    session.add(created)
    session.commit()
    return created


def delete_event_type(*, session: Session, room: str, name: str) -> None:
    session.delete(require_event_type(session=session, room=room, name=name))
    session.commit()


def public_event_type(event_type: EventType) -> dict[str, Any]:
    return {"eventType": event_type.event_type, "schema": event_type.schema_}


def public_subscription(sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sub.id,
        "subscriberId": SubsystemId.parse(sub.subscriber).govstack(),
        "eventType": sub.event_type,
        "delivery": sub.delivery,
        "options": {"TTL": sub.ttl, "FIFO": sub.fifo},
    }
    if sub.push_url:
        body["pushUrl"] = sub.push_url
    if sub.push_path:
        body["pushPath"] = sub.push_path
    return body


def subscriptions(*, session: Session, room: str, subscriber: str) -> list[Subscription]:
    query = select(Subscription).where(
        Subscription.room == room, Subscription.subscriber == subscriber
    )
    return list(session.exec(query.order_by(col(Subscription.event_type))))


def find_subscription(
    *, session: Session, room: str, event_type: str, subscriber: str
) -> Subscription | None:
    return session.exec(
        select(Subscription).where(
            Subscription.room == room,
            Subscription.event_type == event_type,
            Subscription.subscriber == subscriber,
        )
    ).first()


def require_subscription(
    *, session: Session, room: str, event_type: str, subscriber: str
) -> Subscription:
    found = find_subscription(
        session=session, room=room, event_type=event_type, subscriber=subscriber
    )
    if found is None:
        raise NotFound(f"{subscriber} has no subscription to {event_type!r} in room {room}.")
    return found


def _check_target(data: SubscriptionCreate, push_target_known: bool) -> None:
    if data.delivery == "PUSH" and not data.push_url and not (data.push_path and push_target_known):
        raise BadRequest(
            "A PUSH subscription needs pushUrl (absolute) or pushPath (on the subscriber's "
            "own service)."
        )


def _check_names(data: SubscriptionCreate, *, event_type: str, subscriber: str) -> None:
    """A `SubscriptionItem`'s `eventType` and `subscriberId` may repeat the path and the caller;
    subscribing another subsystem (its own right and credentials decide) is not implemented."""
    if data.event_type not in (None, event_type):
        raise BadRequest("eventType in the body differs from the one in the path.")
    if data.subscriber_id not in (None, SubsystemId.parse(subscriber).govstack()):
        raise BadRequest(
            "subscriberId in the body differs from the calling client: a subscription is the "
            "caller's own (subscribing another subsystem is not implemented)."
        )


def subscribe(
    *,
    session: Session,
    room: str,
    event_type: str,
    subscriber: str,
    data: SubscriptionCreate,
    push_target_known: bool,
) -> Subscription:
    require_event_type(session=session, room=room, name=event_type)
    _check_names(data, event_type=event_type, subscriber=subscriber)
    _check_target(data, push_target_known)
    if find_subscription(session=session, room=room, event_type=event_type, subscriber=subscriber):
        raise Conflict(f"{subscriber} already subscribes to {event_type!r} in room {room}.")
    sub = Subscription(
        id=str(uuid.uuid4()),
        room=room,
        event_type=event_type,
        subscriber=subscriber,
        delivery=data.delivery,
        ttl=data.options.TTL,
        fifo=data.options.FIFO,
        push_url=data.push_url,
        push_path=data.push_path,
    )
    session.add(sub)
    session.commit()
    return sub


def update_subscription(
    *,
    session: Session,
    room: str,
    event_type: str,
    subscriber: str,
    data: SubscriptionCreate,
    push_target_known: bool,
) -> Subscription:
    sub = require_subscription(
        session=session, room=room, event_type=event_type, subscriber=subscriber
    )
    _check_names(data, event_type=event_type, subscriber=subscriber)
    _check_target(data, push_target_known)
    sub.delivery, sub.ttl, sub.fifo = data.delivery, data.options.TTL, data.options.FIFO
    sub.push_url, sub.push_path = data.push_url, data.push_path
    session.add(sub)
    session.commit()
    return sub
