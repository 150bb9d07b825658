"""GovStack IM pub/sub under `/r1/{room}/...`: event types, publish, subscriptions, pull/ack."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from services.interop_layer.auth import ClientDep, directory_of, exchange_of, provider_id
from services.interop_layer.errors import AccessDenied, UnknownService
from services.interop_layer.pubsub import events, rooms
from services.interop_layer.pubsub.declared import declare_subscriptions
from services.interop_layer.pubsub.models import EventTypeCreate, SubscriptionCreate
from services.interop_layer.pubsub.push import push_base
from services.interop_layer.runtime import RuntimeDep
from services.kernel.db import SessionDep
from services.kernel.topology import load_topology

router = APIRouter(tags=["pub/sub (GovStack IM)"])
ROOM = "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}"


def _room(request: Request, code: str, client: str, *, right: str | None) -> str:
    """The room's id; the client must hold `right` there (None: only the room's owner)."""
    room = request_room(request)
    exchange_of(request).service = f"{room}/{code}"
    directory = directory_of(request)
    if room not in directory.subsystems:
        raise UnknownService(f"Unknown room {room}.")
    if right is None:
        if client != room:
            raise AccessDenied(f"Only the room's owner {room} manages its event types.")
        return room
    event_type = request.path_params.get("event_type", "")
    if not directory.allowed(client, room, right, request.method, f"/{event_type}"):
        raise AccessDenied(f"Client {client} has no '{right}' right in room {room}.")
    return room


def request_room(request: Request) -> str:
    """The room (owner subsystem) named in the path."""
    p = request.path_params
    return provider_id(p["instance"], p["member_class"], p["member_code"], p["subsystem_code"])


@router.post(ROOM + "/api/v1/eventType", summary="Create an event type (room owner)")
def create_event_type(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    data: EventTypeCreate,
) -> dict[str, Any]:
    room = _room(request, "api", client, right=None)
    created = rooms.create_event_type(session=session, room=room, data=data)
    if runtime.settings.declared_subscriptions:
        declare_subscriptions(
            session=session,
            topology=load_topology(),
            directory=runtime.directory,
            room=room,
            event_type=created.event_type,
        )
    return rooms.public_event_type(created)


@router.get(ROOM + "/api/v1/eventType", summary="Event types of the room", response_model=None)
def list_event_types(request: Request, session: SessionDep, client: ClientDep) -> Any:
    room = _room(request, "api", client, right=None if client == request_room(request) else "sub")
    names = [t.event_type for t in rooms.event_types(session=session, room=room)]
    return names if names else Response(status_code=204)


@router.get(ROOM + "/api/v1/eventType/{event_type}", summary="One event type", response_model=None)
def get_event_type(
    request: Request, session: SessionDep, client: ClientDep, event_type: str
) -> Any:
    room = _room(request, "api", client, right=None if client == request_room(request) else "sub")
    found = rooms.find_event_type(session=session, room=room, name=event_type)
    return rooms.public_event_type(found) if found else Response(status_code=204)


@router.delete(ROOM + "/api/v1/eventType/{event_type}", status_code=204, summary="Delete one")
def delete_event_type(
    request: Request, session: SessionDep, client: ClientDep, event_type: str
) -> Response:
    room = _room(request, "api", client, right=None)
    rooms.delete_event_type(session=session, room=room, name=event_type)
    return Response(status_code=204)


@router.post(ROOM + "/pub/v1/{event_type}", status_code=201, summary="Publish an event")
def publish(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    event_type: str,
    body: Annotated[Any, Body()],
) -> dict[str, str]:
    room = _room(request, "pub", client, right="pub")
    exchange = exchange_of(request)
    exchange.kind = "publish"
    trace = getattr(request.state, "trace", None)
    directory = runtime.directory
    event = events.publish(
        session=session,
        room=room,
        event_type=event_type,
        publisher=client,
        payload=events.unwrap(body, event_type),
        x_road_id=exchange.x_road_id,
        trace_id=getattr(trace, "trace_id", None),
        may_receive=lambda subscriber: directory.allowed(
            subscriber, room, "sub", "POST", f"/{event_type}"
        ),
    )
    runtime.dispatcher.notify()
    return {"id": event.id}


@router.get(ROOM + "/pub/v1/{event_type}/{event_id}", summary="A published event's status")
def event_status(
    request: Request, session: SessionDep, client: ClientDep, event_type: str, event_id: str
) -> dict[str, Any]:
    room = _room(request, "pub", client, right="pub")
    event = events.find_event(session=session, room=room, event_type=event_type, event_id=event_id)
    return events.event_status(session=session, event=event)


@router.delete(ROOM + "/pub/v1/{event_type}/{event_id}", status_code=204, summary="Stop it")
def cancel_event(
    request: Request, session: SessionDep, client: ClientDep, event_type: str, event_id: str
) -> Response:
    room = _room(request, "pub", client, right="pub")
    event = events.find_event(session=session, room=room, event_type=event_type, event_id=event_id)
    events.cancel_event(session=session, event=event)
    return Response(status_code=204)


@router.get(ROOM + "/api/v1/subs", summary="My subscriptions in the room")
def my_subscriptions(
    request: Request, session: SessionDep, client: ClientDep
) -> list[dict[str, Any]]:
    room = _room(request, "api", client, right="sub")
    subs = rooms.subscriptions(session=session, room=room, subscriber=client)
    return [rooms.public_subscription(s) for s in subs]


@router.post(ROOM + "/api/v1/subs/{event_type}", summary="Subscribe (PUSH or PULL)")
def subscribe(
    request: Request,
    session: SessionDep,
    client: ClientDep,
    event_type: str,
    data: SubscriptionCreate,
) -> dict[str, Any]:
    room = _room(request, "api", client, right="sub")
    sub = rooms.subscribe(
        session=session,
        room=room,
        event_type=event_type,
        subscriber=client,
        data=data,
        push_target_known=push_base(client) is not None,
    )
    return rooms.public_subscription(sub)


@router.get(ROOM + "/api/v1/subs/{event_type}", summary="My subscription to one event type")
def get_subscription(
    request: Request, session: SessionDep, client: ClientDep, event_type: str
) -> dict[str, Any]:
    room = _room(request, "api", client, right="sub")
    sub = rooms.require_subscription(
        session=session, room=room, event_type=event_type, subscriber=client
    )
    return rooms.public_subscription(sub)


@router.patch(ROOM + "/api/v1/subs/{event_type}", status_code=201, summary="Update it")
def update_subscription(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    event_type: str,
    data: SubscriptionCreate,
) -> dict[str, Any]:
    room = _room(request, "api", client, right="sub")
    sub = rooms.update_subscription(
        session=session,
        room=room,
        event_type=event_type,
        subscriber=client,
        data=data,
        push_target_known=push_base(client) is not None,
    )
    runtime.dispatcher.notify()
    return rooms.public_subscription(sub)


@router.delete(ROOM + "/api/v1/subs/{event_type}", status_code=204, summary="Unsubscribe")
def unsubscribe(
    request: Request, session: SessionDep, client: ClientDep, event_type: str
) -> Response:
    room = _room(request, "api", client, right="sub")
    events.unsubscribe(session=session, room=room, event_type=event_type, subscriber=client)
    return Response(status_code=204)


@router.get(ROOM + "/pull/v1/{event_type}", summary="Next unacknowledged event (PULL)")
def pull(
    request: Request, session: SessionDep, client: ClientDep, event_type: str
) -> dict[str, Any]:
    room = _room(request, "pull", client, right="sub")
    exchange_of(request).kind = "delivery"
    return events.pull(session=session, room=room, event_type=event_type, subscriber=client)


@router.delete(ROOM + "/pull/v1/{event_type}/{event_id}", status_code=204, summary="Acknowledge")
def acknowledge(
    request: Request, session: SessionDep, client: ClientDep, event_type: str, event_id: str
) -> Response:
    room = _room(request, "pull", client, right="sub")
    events.acknowledge(
        session=session, room=room, event_type=event_type, subscriber=client, event_id=event_id
    )
    return Response(status_code=204)
