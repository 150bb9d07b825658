"""Admin view of the event outbox, and a way to drain it now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from services.id_registry.events.models import OutboxEventPublic
from services.id_registry.events.service import list_outbox
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.outbox import Outbox

router = APIRouter(prefix="/v1/events", tags=["events (admin)"])


@router.get("/outbox", summary="Lifecycle events, oldest first (pending only by default)")
def outbox(
    session: SessionDep,
    _: AdminDep,
    pending: bool = True,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[OutboxEventPublic]:
    return list_outbox(session=session, pending_only=pending, limit=limit)


@router.post("/outbox/drain", summary="Publish pending events now")
async def drain(request: Request, _: AdminDep) -> dict[str, int]:
    drainer: Outbox[Any] = request.app.state.drainer
    return {"published": await drainer.drain_once()}
