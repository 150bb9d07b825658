"""Admin view of the event outbox, and a way to drain it now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.id_registry.events.models import OutboxEventPublic
from services.id_registry.events.service import list_outbox
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.outbox import Outbox
from services.kernel.outbox_admin import PendingOutboxQuery

router = APIRouter(prefix="/v1/events", tags=["events (admin)"])


@router.get("/outbox", summary="Lifecycle events, oldest first (pending only by default)")
def outbox(session: SessionDep, _: AdminDep, query: PendingOutboxQuery) -> list[OutboxEventPublic]:
    return list_outbox(session=session, query=query)


@router.post("/outbox/drain", summary="Publish pending events now")
async def drain(request: Request, _: AdminDep) -> dict[str, int]:
    drainer: Outbox[Any] = request.app.state.drainer
    return {"published": await drainer.drain_once()}
