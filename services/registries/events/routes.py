"""Admin view of the outbox: what is waiting, what was published."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.registries.events import service

router = APIRouter(prefix="/admin/outbox", tags=["event outbox"])


@router.get("", summary="Outbox counts and events, oldest first")
def outbox(
    session: SessionDep,
    _: AdminDep,
    pending: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    return {
        **service.outbox_status(session),
        "events": service.list_events(session, pending_only=pending, limit=limit),
    }
