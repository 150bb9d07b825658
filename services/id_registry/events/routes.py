"""Admin view of the event outbox, and a way to drain it now."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.id_registry.deps import RuntimeDep
from services.id_registry.events.models import OutboxEventPublic
from services.id_registry.events.service import list_outbox
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

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
async def drain(runtime: RuntimeDep, _: AdminDep) -> dict[str, int]:
    return {"published": await runtime.drainer.drain_once()}
