"""`POST /api/tracker/aggregate`: run the aggregation job now; it also runs on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.engine import Engine

from services.kernel.db import DatabaseDep
from services.sectoral_platform.aggregation.service import aggregate
from services.sectoral_platform.auth.scope import SuperuserDep
from services.sectoral_platform.common.web import json_response
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.store import MetadataStore

router = APIRouter(prefix="/api/tracker", tags=["aggregation"])
log = logging.getLogger("dpi.sectoral_platform.aggregation")


@router.post("/aggregate", summary="Aggregate tracker events into data values now")
async def aggregate_now(database: DatabaseDep, store: StoreDep, _: SuperuserDep) -> Response:
    summary = await run_in_threadpool(lambda: aggregate(engine=database.engine, store=store))
    return json_response(summary)


@contextlib.asynccontextmanager
async def scheduled(engine: Engine, store: MetadataStore, interval: float) -> AsyncIterator[None]:
    """Re-aggregates every `interval` seconds (0: only on demand)."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                summary: dict[str, Any] = await run_in_threadpool(
                    lambda: aggregate(engine=engine, store=store)
                )
                log.info("tracker aggregation: %s", summary.get("importCount"))
            except Exception:  # the schedule must survive one failed run
                log.exception("tracker aggregation failed")

    task = asyncio.create_task(loop()) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
