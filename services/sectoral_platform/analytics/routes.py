"""`/api/analytics`: answered from current data (no analytics-table generation step)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.analytics.request import parse_query
from services.sectoral_platform.analytics.service import run
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.deps import StoreDep

router = APIRouter(prefix="/api", tags=["analytics"], dependencies=[Depends(check_parameters)])


@router.get("/analytics", summary="Aggregate analytics (dx, pe, ou)")
def analytics(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    params = request.query_params
    today = date.today()
    if params.get("relativePeriodDate"):
        try:
            today = date.fromisoformat(params["relativePeriodDate"][:10])
        except ValueError as exc:
            raise conflict("Invalid relativePeriodDate", "E7135") from exc
    query = parse_query(
        store=store,
        scope=scope,
        dimensions=params.getlist("dimension"),
        filters=params.getlist("filter"),
        today=today,
    )
    display = (params.get("displayProperty") or "NAME").upper()
    return json_response(run(database.engine, store, query, display))
