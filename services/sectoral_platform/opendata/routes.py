"""`/api/openData/publications`: publish with the authority; anyone reads, without credentials.

A sandbox extension in the DHIS2 style (DHIS2 has no built-in disclosure control).
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import DatabaseDep
from services.sectoral_platform.auth.deps import ScopeDep
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import bad_request, not_found
from services.sectoral_platform.metadata.deps import StoreDep
from services.sectoral_platform.opendata.request import parse_spec
from services.sectoral_platform.opendata.service import document, listing, publish, to_csv

router = APIRouter(prefix="/api/openData", tags=["open data"])
AUTHORITY = "F_OPEN_DATA_PUBLISH"
CSV = "text/csv"


@router.post(
    "/publications",
    summary="Publish aggregate counts with small-cell suppression",
    dependencies=[Depends(sandbox_parameters())],
)
async def create_publication(
    request: Request, database: DatabaseDep, store: StoreDep, scope: ScopeDep
) -> Response:
    scope.user.require(AUTHORITY)
    try:
        body: Any = json.loads(await request.body())
    except ValueError as exc:
        raise bad_request("The body must be a JSON object") from exc
    spec = parse_spec(store=store, scope=scope, body=body)
    uid, rendered = await run_in_threadpool(
        lambda: publish(engine=database.engine, store=store, scope=scope, spec=spec)
    )
    return Response(
        rendered,
        status_code=201,
        media_type="application/json",
        headers={"Location": f"{_base(request)}/api/openData/publications/{uid}"},
    )


@router.get(
    "/publications",
    summary="Published datasets, newest first (no credentials)",
    dependencies=[Depends(sandbox_parameters("page", "pageSize"))],
)
async def list_publications(request: Request, database: DatabaseDep) -> Response:
    page = _positive(request.query_params.get("page"), "page", 1)
    size = _positive(request.query_params.get("pageSize"), "pageSize", 50)
    total, found = await run_in_threadpool(
        lambda: listing(engine=database.engine, page=page, page_size=size)
    )
    base = _base(request)
    return json_response(
        {
            "pager": {
                "page": page,
                "pageSize": size,
                "total": total,
                "pageCount": max(1, -(-total // size)),
            },
            "publications": [
                {
                    "id": p.uid,
                    "title": p.title,
                    "published": p.published,
                    "threshold": p.threshold,
                    "orgUnitLevel": p.org_unit_level,
                    "cellCount": p.cell_count,
                    "suppressedCellCount": p.suppressed_cell_count,
                    "href": f"{base}/api/openData/publications/{p.uid}",
                }
                for p in found
            ],
        }
    )


@router.get(
    "/publications/{name}",
    dependencies=[Depends(sandbox_parameters())],
    summary="One publication, as JSON or CSV (no credentials)",
    responses={
        200: {
            "description": "The publication; CSV for a `.csv` name or `Accept: text/csv`",
            "content": {"application/json": {"schema": {"type": "object"}}, CSV: {}},
        }
    },
)
async def get_publication(name: str, request: Request, database: DatabaseDep) -> Response:
    as_csv = name.endswith(".csv") or CSV in request.headers.get("accept", "")
    uid = name.removesuffix(".csv")
    stored = await run_in_threadpool(lambda: document(engine=database.engine, uid=uid))
    if stored is None:
        raise not_found(f"Publication not found: `{uid}`")
    if not as_csv:
        return Response(stored, media_type="application/json")
    return Response(
        to_csv(orjson.loads(stored)),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{uid}.csv"'},
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _positive(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"{name} must be a positive whole number")
    return int(raw)
