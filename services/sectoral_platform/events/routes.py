"""Events: the PUSH target for civil registration, and the outbox (admin view, drain now)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from services.kernel.credentials import MediatorDep
from services.kernel.db import DatabaseDep
from services.sectoral_platform.auth.deps import SuperuserDep
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.events.outbox import OUTBOX, pending_rows
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(prefix="/api", tags=["events"])


@router.post(
    "/civilRegistration/events",
    summary="PUSH delivery of birth-registered (mediator)",
    dependencies=[Depends(sandbox_parameters())],
)
async def civil_event(request: Request, runtime: RuntimeDep, _: MediatorDep) -> Response:
    try:
        item = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    return json_response(await runtime.birth_consumer.handle_async(item))


@router.get(
    "/events/outbox",
    summary="Events waiting for (or sent to) the mediator",
    dependencies=[Depends(sandbox_parameters("pending"))],
)
def outbox(request: Request, database: DatabaseDep, _: SuperuserDep) -> Response:
    query = select(OUTBOX).order_by(OUTBOX.c.id)
    if parse_bool(request.query_params.get("pending")):
        query = query.where(OUTBOX.c.published_id.is_(None))
    with database.engine.connect() as conn:
        rows: list[dict[str, Any]] = [dict(r) for r in conn.execute(query).mappings()]
    return json_response({"events": rows})


@router.post(
    "/events/outbox/drain",
    summary="Publish pending events now",
    dependencies=[Depends(sandbox_parameters())],
)
async def drain(runtime: RuntimeDep, database: DatabaseDep, _: SuperuserDep) -> Response:
    sent = await runtime.outbox.drain_once()
    pending = await run_in_threadpool(lambda: len(pending_rows(database.engine, limit=10_000)))
    return json_response({"published": sent, "pending": pending})
