"""Admin view of the event outbox and a way to drain it now; the inbox the mediator pushes civil
registration events to."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ValidationError

from services.id_registry.deps import NowDep, RuntimeDep
from services.id_registry.errors import MosipError
from services.id_registry.events.inbox import on_birth, on_death
from services.id_registry.events.models import (
    BIRTH,
    DEATH,
    Birth,
    Death,
    EventItem,
    OutboxEventPublic,
)
from services.id_registry.events.service import list_outbox
from services.kernel.credentials import AdminDep, MediatorDep
from services.kernel.db import SessionDep
from services.kernel.outbox_admin import PendingOutboxQuery

router = APIRouter(prefix="/v1/events", tags=["events (admin)"])
inbox_router = APIRouter(prefix="/v1/events", tags=["events (mediator push)"])


@router.get("/outbox", summary="Lifecycle events, oldest first (pending only by default)")
def outbox(session: SessionDep, _: AdminDep, query: PendingOutboxQuery) -> list[OutboxEventPublic]:
    return list_outbox(session=session, query=query)


@router.post("/outbox/drain", summary="Publish pending events now")
async def drain(runtime: RuntimeDep, _: AdminDep) -> dict[str, int]:
    return {"published": await runtime.drainer.drain_once()}


@inbox_router.post("/inbox", summary="Receive civil registration events (PUSH from the mediator)")
def inbox(
    item: EventItem,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: MediatorDep,
) -> dict[str, str]:
    secret = runtime.secret
    try:
        if item.eventType == BIRTH:
            outcome = on_birth(
                session=session, birth=Birth.model_validate(item.event), secret=secret, now=now
            )
        elif item.eventType == DEATH:
            outcome = on_death(
                session=session, death=Death.model_validate(item.event), secret=secret, now=now
            )
        else:
            raise MosipError("IDA-MLC-009", f"Unsupported event type {item.eventType!r}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MosipError("IDA-MLC-009", f"Invalid Input Parameter - event.{where}") from None
    if outcome in ("enrolled", "deactivated"):
        runtime.people.invalidate()
        runtime.drainer.notify()
    return {"eventId": item.id or "", "outcome": outcome}
