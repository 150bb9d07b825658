"""`POST /api/tracker/aggregate`: run the aggregation job now; it also runs on a schedule."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.auth.deps import SuperuserDep
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.tracker_counts.service import aggregate

router = APIRouter(
    prefix="/api/tracker", tags=["aggregation"], dependencies=[Depends(sandbox_parameters())]
)
log = logging.getLogger("dpi.sectoral_platform.tracker_counts")


@router.post("/aggregate", summary="Aggregate tracker events into data values now")
async def aggregate_now(database: DatabaseDep, store: StoreDep, _: SuperuserDep) -> Response:
    summary = await run_in_threadpool(lambda: aggregate(engine=database.engine, store=store))
    return json_response(summary)
