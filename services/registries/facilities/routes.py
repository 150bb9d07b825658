"""FHIR R4 mCSD read and search, and the admin API that changes facilities."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.errors import BadRequest
from services.kernel.fhir_outcome import (
    FHIR_JSON,
    FHIR_XML,
    refuse_read_parameters,
    require_json,
)
from services.kernel.time import iso_micros_z
from services.registries.facilities import (
    capability,
    fhir,
    history,
    links,
    search,
    service,
)
from services.registries.facilities.models import FacilityCreate, FacilityUpdate
from services.registries.links import public_base, public_url

FHIR_RESOURCE = {
    "description": "A FHIR R4 resource (Bundle for searches)",
    "content": {FHIR_JSON: {"schema": {"type": "object", "required": ["resourceType"]}}},
}
NOT_ACCEPTABLE = {
    "description": "XML was asked for (Accept or _format): an OperationOutcome in XML",
    "content": {FHIR_XML: {"schema": {"type": "string"}}},
}
router = APIRouter(
    prefix="/fhir", tags=["FHIR mCSD"], responses={200: FHIR_RESOURCE, 406: NOT_ACCEPTABLE}
)
admin = APIRouter(prefix="/admin/facilities", tags=["facility admin"])


def _base(request: Request) -> str:
    return public_base(request, "/fhir")


def fhir_json(
    body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """orjson: a 1,000-resource Bundle serialises ten times faster than with `json`."""
    content = orjson.dumps(body)
    return Response(content, status_code=status_code, media_type=FHIR_JSON, headers=headers)


@router.get("/metadata", summary="CapabilityStatement")
def metadata(request: Request) -> Response:
    require_json(request)
    refuse_read_parameters(request, frozenset({"mode"}))
    mode = request.query_params.get("mode", "full")
    if mode != "full":  # `normative`, `terminology`: other statements this server does not make
        raise BadRequest(f"mode={mode!r} is not supported; this server states mode=full only.")
    return fhir_json(capability.statement(_base(request), request.app.version))


def _search(request: Request, session: SessionDep, resource_type: str) -> Response:
    require_json(request)
    params = search.parse(resource_type, list(request.query_params.multi_items()))
    total, rows, cursor = search.run(session, params)
    extra = links.included(session, resource_type, rows, params.includes, params.revincludes)
    next_url = None
    if cursor is not None:
        url = request.url.include_query_params(_cursor=search.cursor_value(cursor))
        next_url = public_url(request, "/fhir", url)
    return fhir_json(
        fhir.bundle(
            matches=[links.render(resource_type, row) for row in rows],
            included=[links.render(kind, row) for kind, row in extra],
            total=total,
            base=_base(request),
            self_url=public_url(request, "/fhir"),
            next_url=next_url,
        )
    )


def _history(request: Request, session: SessionDep, resource_type: str) -> Response:
    require_json(request)
    query = history.parse(list(request.query_params.multi_items()))
    rows, before = history.run(session, resource_type, query)
    next_url = None
    if before is not None:
        url = request.url.include_query_params(_cursor=search.cursor_value(before))
        next_url = public_url(request, "/fhir", url)
    body = history.bundle(
        resource_type,
        rows,
        base=_base(request),
        self_url=public_url(request, "/fhir"),
        next_url=next_url,
    )
    return fhir_json(body)


def _read(request: Request, session: SessionDep, resource_type: str, ident: str) -> Response:
    require_json(request)
    refuse_read_parameters(request)
    row = service.get_resource(session, resource_type=resource_type, ident=ident)
    headers = {"ETag": f'W/"{row.version_id}"', "Last-Modified": iso_micros_z(row.last_updated)}
    return fhir_json(links.render(resource_type, row), headers=headers)


def _add_routes(resource_type: str) -> None:
    def search_type(request: Request, session: SessionDep) -> Response:
        return _search(request, session, resource_type)

    def history_type(request: Request, session: SessionDep) -> Response:
        return _history(request, session, resource_type)

    def read(id: str, request: Request, session: SessionDep) -> Response:
        return _read(request, session, resource_type, id)

    path = f"/{resource_type}"
    router.add_api_route(path, search_type, methods=["GET"], summary=f"Search {resource_type}")
    router.add_api_route(
        f"{path}/_history",
        history_type,
        methods=["GET"],
        summary=f"{resource_type} history (mCSD ITI-91), `_since`",
    )
    router.add_api_route(f"{path}/{{id}}", read, methods=["GET"], summary=f"Read {resource_type}")


for _type in links.RESOURCE_TYPES:
    _add_routes(_type)


@admin.post(
    "", status_code=201, summary="Add a facility to a district", responses={201: FHIR_RESOURCE}
)
def add_facility(body: FacilityCreate, session: SessionDep, _: AdminDep) -> Response:
    place = service.add_facility(session, body=body)
    return fhir_json(
        fhir.location(place), status_code=201, headers={"Location": f"/fhir/Location/{place.id}"}
    )


@admin.patch(
    "/{id}",
    summary="Rename, move or change the status of a facility",
    responses={200: FHIR_RESOURCE},
)
def update_facility(id: str, body: FacilityUpdate, session: SessionDep, _: AdminDep) -> Response:
    return fhir_json(fhir.location(service.update_facility(session, place_id=id, body=body)))


@admin.get("", summary="How many places of each level")
def counts(session: SessionDep, _: AdminDep) -> dict[str, int]:
    return service.count_places(session)
