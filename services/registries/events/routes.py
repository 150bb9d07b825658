"""Admin view of the outbox: what is waiting, what was published."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.outbox_admin import WholeOutboxQuery
from services.registries.events import service

router = APIRouter(prefix="/admin/outbox", tags=["event outbox"])


@router.get("", summary="Outbox counts and events, oldest first")
def outbox(session: SessionDep, _: AdminDep, query: WholeOutboxQuery) -> dict[str, Any]:
    return {**service.outbox_status(session), "events": service.list_events(session, query)}
