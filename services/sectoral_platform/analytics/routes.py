"""`/api/analytics` (JSON, CSV), `/api/analytics/dataValueSet` and `/api/analytics/rawData`:
answered from current data (no analytics-table generation step)."""

from __future__ import annotations

import csv
import io
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from services.kernel.db import Database, DatabaseDep
from services.sectoral_platform.aggregate import exchange
from services.sectoral_platform.aggregate.idschemes import IdSchemes
from services.sectoral_platform.analytics.options import parse_options
from services.sectoral_platform.analytics.raw import raw_data
from services.sectoral_platform.analytics.request import AnalyticsQuery, parse_query
from services.sectoral_platform.analytics.response import AnalyticsResponse
from services.sectoral_platform.analytics.service import run
from services.sectoral_platform.analytics.value_set import value_set
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import conflict, not_found, not_implemented
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.metadata.store import MetadataStore

# grid formats DHIS2 serves that the sandbox does not write
REFUSED_FORMATS = ("xml", "xls", "xlsx", "html", "html+css", "pdf", "jrxml")
# the data value set's id scheme parameters the output id schemes become
VALUE_SET_SCHEMES = {
    "dataElements": "dataElementIdScheme",
    "dataItems": "dataElementIdScheme",
    "organisationUnits": "orgUnitIdScheme",
}
router = APIRouter(prefix="/api", tags=["analytics"], dependencies=[Depends(check_parameters)])


def _query(request: Request, store: MetadataStore, scope: Scope) -> AnalyticsQuery:
    params = request.query_params
    today = date.today()
    if params.get("relativePeriodDate"):
        try:
            today = date.fromisoformat(params["relativePeriodDate"][:10])
        except ValueError as exc:
            raise conflict("Invalid relativePeriodDate", "E7135") from exc
    return parse_query(
        store=store,
        scope=scope,
        dimensions=params.getlist("dimension"),
        filters=params.getlist("filter"),
        today=today,
        options=parse_options(params),
    )


def grid_csv(grid: AnalyticsResponse) -> Response:
    """DHIS2's grid as CSV: the header columns' names, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([h["column"] for h in grid["headers"]])
    writer.writerows(grid["rows"])
    return Response(
        buffer.getvalue(),
        media_type="application/csv",
        headers={"Content-Disposition": 'attachment; filename="data.csv"'},
    )


@router.get("/analytics", summary="Aggregate analytics (dx, pe, ou, co, categories, groups)")
def analytics(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    grid = run(database.engine, store, _query(request, store, scope))
    if "csv" in (request.headers.get("accept") or "").lower():
        return grid_csv(grid)
    return json_response(grid)


@router.get("/analytics.{suffix}", summary="Aggregate analytics as CSV")
def analytics_as(
    suffix: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    if suffix in REFUSED_FORMATS:
        raise not_implemented(
            f"Analytics output format `.{suffix}` is defined by DHIS2 but not implemented here"
        )
    if suffix != "csv":
        raise not_found(f"No endpoint /api/analytics.{suffix}", None)
    return grid_csv(run(database.engine, store, _query(request, store, scope)))


@router.get("/analytics/dataValueSet", summary="Analytics as a data value set (JSON, CSV, ADX)")
def analytics_value_set(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    return _value_set(request, database, store, scope, None)


@router.get("/analytics/dataValueSet.{suffix}", summary="Analytics as a data value set")
def analytics_value_set_as(
    suffix: str, request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    if suffix not in ("json", "csv", "adx", "xml"):
        raise not_found(f"No endpoint /api/analytics/dataValueSet.{suffix}", None)
    return _value_set(request, database, store, scope, suffix)


def _value_set(
    request: Request, database: Database, store: MetadataStore, scope: Scope, suffix: str | None
) -> Response:
    fmt = exchange.export_format(request, suffix)
    query = _query(request, store, scope)
    opts = query.options
    wanted = {"idScheme": opts.output_id_scheme} | {
        VALUE_SET_SCHEMES[kind]: scheme for kind, scheme in opts.output_schemes.items()
    }
    opts.output_id_scheme, opts.output_schemes = "UID", {}
    values = value_set(database.engine, store, query, adx=fmt == "adx")
    schemes = IdSchemes.parse(store, wanted)
    body = exchange.render(fmt, {}, values, schemes)
    return StreamingResponse(body, media_type=exchange.MEDIA[fmt])


@router.get("/analytics/rawData", summary="Stored values, not aggregated, as an analytics grid")
def analytics_raw(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    return json_response(raw_data(database.engine, store, _query(request, store, scope)))
