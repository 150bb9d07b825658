"""Durable subscriptions declared in the topology, created before the mediator takes publications.

A subscriber that subscribes itself once it runs misses every event published before that call
(the publish transaction creates deliveries only for subscriptions that exist). Declared ones are
created at start, before the server accepts a request, and when the room's owner declares the
event type later; they are never duplicated (one subscription per room, type and subscriber) and
an existing one is left as its subscriber last set it.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.interop_layer.directory import Directory
from services.interop_layer.pubsub.models import Subscription
from services.interop_layer.pubsub.rooms import find_event_type, find_subscription
from services.kernel.topology import SubscriptionSpec, Topology

log = logging.getLogger("dpi.interop.pubsub")


def declare_subscriptions(
    *,
    session: Session,
    topology: Topology,
    directory: Directory,
    room: str | None = None,
    event_type: str | None = None,
) -> list[Subscription]:
    """Create the declared subscriptions that are missing (optionally only for one event type);
    returns those created."""
    created = []
    for spec in topology.subscriptions:
        spec_room, subscriber = topology.member_id(spec.room), topology.member_id(spec.subscriber)
        assert spec_room is not None and subscriber is not None  # checked when loaded
        if room is not None and (spec_room, spec.event_type) != (room, event_type):
            continue
        sub = _declare(session, spec, room=spec_room, subscriber=subscriber, directory=directory)
        if sub is not None:
            created.append(sub)
    return created


def _declare(
    session: Session, spec: SubscriptionSpec, *, room: str, subscriber: str, directory: Directory
) -> Subscription | None:
    name = f"{subscriber} -> {room}/{spec.event_type}"
    if find_event_type(session=session, room=room, name=spec.event_type) is None:
        log.info("declared subscription %s waits for its event type", name)
        return None
    if not directory.allowed(subscriber, room, "sub", "POST", f"/{spec.event_type}"):
        log.warning("declared subscription %s not created: no 'sub' right", name)
        return None
    if find_subscription(
        session=session, room=room, event_type=spec.event_type, subscriber=subscriber
    ):
        return None
    sub = Subscription(
        id=str(uuid.uuid4()),
        room=room,
        event_type=spec.event_type,
        subscriber=subscriber,
        delivery=spec.delivery,
        ttl=spec.ttl,
        fifo=spec.fifo,
        push_path=spec.push_path,
    )
    session.add(sub)
    try:
        session.commit()
    except IntegrityError:  # another process created it meanwhile
        session.rollback()
        return None
    log.info("declared subscription %s created", name)
    return sub
