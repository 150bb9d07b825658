"""GovStack Digital Registries *Data* API, the same operations for every registry."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from services.kernel.db import SessionDep
from services.kernel.errors import BadRequest, NotFound
from services.kernel.openapi import errors
from services.kernel.time import iso_micros_z
from services.registries.catalog.models import Registry
from services.registries.catalog.schema import get_path
from services.registries.catalog.service import get_registry, registries_for_usage
from services.registries.data import reads, service
from services.registries.data.models import QueryBody, QueryWriteBody, WriteBody
from services.registries.data.usage import pairs, record_reads, usage
from services.registries.deps import CallerDep, RuntimeDep
from services.registries.links import public_url
from services.registries.runtime import RegistriesRuntime

router = APIRouter(prefix="/data", tags=["Registry data query API"])

_LIST_PARAMS = {"search", "filter", "ordering", "page", "pageSize"}
MAX_PAGE_SIZE = 1000


def _poke(runtime: RegistriesRuntime, registry: Registry) -> None:
    if registry.event_on_create and runtime.drainer is not None:
        runtime.drainer.notify()


def _required_query(body: QueryWriteBody) -> dict[str, Any]:
    if body.query is None:
        raise BadRequest("query.content is required to find the records to update.")
    return body.query.content


@router.get(
    "/myPersonalDataUsage",
    tags=["MyPersonalDataUsage API"],
    summary="Who read my data",
    responses=errors(404),
)
def my_personal_data_usage(
    session: SessionDep,
    caller: CallerDep,
    userId: Annotated[str, Query(min_length=1, max_length=200)],
    databaseId: Annotated[str, Query(min_length=1, max_length=100)],
) -> list[dict[str, Any]]:
    registries = registries_for_usage(session, database_id=databaseId)
    if not registries:
        raise NotFound(f"no database {databaseId!r}.")
    return usage(session, user_id=userId, registries=registries)


@router.get("/{registryName}/{versionNumber}", summary="list")
def list_records(
    request: Request,
    registryName: str,
    versionNumber: str,
    session: SessionDep,
    caller: CallerDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
    filter: Annotated[str | None, Query(max_length=200)] = None,
    ordering: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    pageSize: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 10,
) -> dict[str, Any]:
    equals: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("query.") and len(name) > 6:
            equals[name[6:]] = value
        elif name not in _LIST_PARAMS:
            raise BadRequest(
                f"unknown query parameter {name!r}; use search, filter, ordering, page, "
                "pageSize or query.<field>."
            )
    registry = get_registry(session, name=registryName, version=versionNumber)
    found = reads.search(
        session,
        registry=registry,
        search=search,
        filter_field=filter,
        ordering=ordering,
        page=page,
        page_size=pageSize,
        equals=equals,
    )
    if page > 1 and not found.records:
        raise NotFound("Invalid page.")
    record_reads(
        session, registry=registry, records=pairs(found.records), caller=caller, operation="list"
    )
    url = request.url
    listed: dict[str, Any] = {"count": found.count}
    # the spec's `next`/`previous` are strings (not nullable): left out where there is no page
    if found.has_next:
        listed["next"] = public_url(request, "/data", url.include_query_params(page=page + 1))
    if page > 1:
        listed["previous"] = public_url(request, "/data", url.include_query_params(page=page - 1))
    listed["results"] = [r.content for r in found.records]
    return listed


@router.post("/{registryName}/{versionNumber}/create", summary="create")
def create(
    runtime: RuntimeDep,
    registryName: str,
    versionNumber: str,
    body: WriteBody,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    record = service.create(
        session, registry=registry, content=body.write.content, actor=caller.client
    )
    _poke(runtime, registry)
    return {"content": record.content}


@router.post("/{registryName}/{versionNumber}/exists", summary="exists")
def exists(
    registryName: str, versionNumber: str, body: QueryBody, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    found = reads.find_items(session, registry=registry, query=body.query.content)
    record_reads(
        session, registry=registry, records=pairs(found[:1]), caller=caller, operation="exists"
    )
    if found:
        return {"answer": {"status": True, "message": "Object found from database"}}
    return {"answer": {"status": False, "message": "Object not found from database"}}


@router.post("/{registryName}/{versionNumber}/read", summary="read")
def read(
    registryName: str, versionNumber: str, body: QueryBody, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    found = reads.find_items(session, registry=registry, query=body.query.content)
    if not found:
        raise NotFound(reads.NO_RECORD)
    record_reads(
        session, registry=registry, records=pairs(found[:1]), caller=caller, operation="read"
    )
    return {"content": found[0].content}


@router.put("/{registryName}/{versionNumber}/update", summary="update")
def update(
    registryName: str,
    versionNumber: str,
    body: QueryWriteBody,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    changed = service.update(
        session,
        registry=registry,
        query=_required_query(body),
        write=body.write.content,
        actor=caller.client,
        many=False,
    )
    return {"content": changed[0].content}


@router.put("/{registryName}/{versionNumber}/updateEntries", summary="updateEntries")
def update_entries(
    registryName: str,
    versionNumber: str,
    body: QueryWriteBody,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    changed = service.update(
        session,
        registry=registry,
        query=_required_query(body),
        write=body.write.content,
        actor=caller.client,
        many=True,
    )
    return {"count": len(changed)}


@router.post("/{registryName}/{versionNumber}/updateOrCreate", summary="updateOrCreate")
def update_or_create(
    runtime: RuntimeDep,
    registryName: str,
    versionNumber: str,
    body: QueryWriteBody,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any]:
    registry = get_registry(session, name=registryName, version=versionNumber)
    query = body.query.content if body.query else None
    record = service.update_or_create(
        session, registry=registry, query=query, write=body.write.content, actor=caller.client
    )
    _poke(runtime, registry)
    return {"content": record.content}


@router.delete("/{registryName}/{versionNumber}/{ID}/delete", status_code=204, summary="delete")
def delete(
    registryName: str, versionNumber: str, ID: str, session: SessionDep, caller: CallerDep
) -> Response:
    registry = get_registry(session, name=registryName, version=versionNumber)
    service.delete(session, registry=registry, key=ID, actor=caller.client)
    return Response(status_code=204)


@router.get(
    "/{registryName}/{versionNumber}/{uuid}/readValue/{field}.{ext}",
    summary="readValue",
    response_model=None,
)
def read_value(
    registryName: str,
    versionNumber: str,
    uuid: str,
    field: str,
    ext: str,
    session: SessionDep,
    caller: CallerDep,
) -> dict[str, Any] | PlainTextResponse:
    if ext not in ("json", "txt"):
        raise BadRequest(f"unsupported format {ext!r}: use .json or .txt.")
    registry = get_registry(session, name=registryName, version=versionNumber)
    record = reads.get_item(session, registry=registry, key=uuid)
    value = get_path(record.content, field)
    if value is None:
        raise NotFound(f"record {uuid} has no value for field {field!r}.")
    record_reads(
        session, registry=registry, records=pairs([record]), caller=caller, operation="readValue"
    )
    if ext == "txt":
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return PlainTextResponse(text)
    return {"value": value}


@router.get("/{registryName}/{versionNumber}/{ID}/history", summary="history (sandbox extension)")
def record_history(
    registryName: str, versionNumber: str, ID: str, session: SessionDep, caller: CallerDep
) -> dict[str, Any]:
    """Every version of a record: who changed it, when, and what (kept after deletion)."""
    registry = get_registry(session, name=registryName, version=versionNumber)
    versions = service.history(session, registry=registry, key=ID)
    record_reads(
        session,
        registry=registry,
        records=[(v.key, v.content) for v in versions],
        caller=caller,
        operation="history",
    )
    return {
        "count": len(versions),
        "results": [
            {
                "version": v.version,
                "action": v.action,
                "actor": v.actor,
                "at": iso_micros_z(v.at),
                "changes": v.changes,
                "content": v.content,
            }
            for v in versions
        ],
    }
