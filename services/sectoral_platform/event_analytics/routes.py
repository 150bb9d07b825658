"""`/api/analytics/events/query|aggregate/{program}` and `/api/analytics/enrollments/query/
{program}`: answered from current data (no analytics-table generation step)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.event_analytics import enrollments, service
from services.sectoral_platform.event_analytics.request import EventRequest, parse_request
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.store import MetadataStore

router = APIRouter(prefix="/api", tags=["analytics"], dependencies=[Depends(check_parameters)])


def _request(
    store: MetadataStore, scope: Scope, program: str, request: Request, enrollment: bool
) -> EventRequest:
    params = request.query_params
    today = date.today()
    if params.get("relativePeriodDate"):
        try:
            today = date.fromisoformat(params["relativePeriodDate"][:10])
        except ValueError as exc:
            raise conflict("Invalid relativePeriodDate", "E7135") from exc
    return parse_request(
        store=store, scope=scope, program_uid=program, params=params, today=today,
        enrollment=enrollment,
    )  # fmt: skip


def _sorting(request: Request) -> tuple[list[str], list[str]]:
    params = request.query_params
    asc, desc = ([k for v in params.getlist(n) for k in v.split(",") if k] for n in ("asc", "desc"))
    return asc, desc


@router.get("/analytics/events/query/{program}", summary="Event query analytics")
def event_query(
    program: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    req = _request(store, scope, program, request, False)
    asc, desc = _sorting(request)
    return json_response(service.query(database.engine, store, req, asc, desc))


@router.get("/analytics/events/aggregate/{program}", summary="Event aggregate analytics")
def event_aggregate(
    program: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    req = _request(store, scope, program, request, False)
    return json_response(service.aggregate(database.engine, store, req))


@router.get("/analytics/enrollments/query/{program}", summary="Enrollment query analytics")
def enrollment_query(
    program: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    req = _request(store, scope, program, request, True)
    asc, desc = _sorting(request)
    return json_response(enrollments.query(database.engine, store, req, asc, desc))
