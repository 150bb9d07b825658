"""Generic metadata endpoints: `/api/{collection}` lists and single objects, `/api/metadata`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.auth.service import CurrentUser
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import bad_request, not_found, web_message
from services.sectoral_platform.metadata.deps import ViewerDep
from services.sectoral_platform.metadata.export_params import exported_types
from services.sectoral_platform.metadata.fields import parse_fields, render
from services.sectoral_platform.metadata.importer import run_import, unknown_types_report
from services.sectoral_platform.metadata.patch import apply_patch
from services.sectoral_platform.metadata.query import parse_filter, select_objects, sort_objects
from services.sectoral_platform.metadata.schema import import_order
from services.sectoral_platform.metadata.schema_types import TypeSchema
from services.sectoral_platform.metadata.service import (
    get_object,
    list_objects,
    schema_or_404,
    with_relatives,
    write_one,
)
from services.sectoral_platform.metadata.store import Obj
from services.sectoral_platform.metadata.validation import ImportOptions
from services.sectoral_platform.metadata.wire import Viewer
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(prefix="/api", tags=["metadata"], dependencies=[Depends(check_parameters)])


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc


def _assigned_units(viewer: Viewer, user: CurrentUser, params: Any) -> list[Obj] | None:
    """DHIS2's `userOnly` (capture units), `userDataViewOnly`, `userDataViewFallback` (view units,
    else capture units): the caller's own assigned org units."""
    record = viewer.store.get("users", user.uid) or {}
    capture = record.get("organisationUnits") or []
    view = record.get("dataViewOrganisationUnits") or []
    if parse_bool(params.get("userOnly")):
        refs = capture
    elif parse_bool(params.get("userDataViewOnly")):
        refs = view
    elif parse_bool(params.get("userDataViewFallback")):
        refs = view or capture
    else:
        return None
    found = (viewer.store.get("organisationUnits", r.get("id", "")) for r in refs)
    return [o for o in found if o is not None]


def _require_write(user: CurrentUser, schema: TypeSchema) -> None:
    user.require("F_USER_ADD" if schema.plural == "users" else "F_METADATA_IMPORT")


def _url(request: Request) -> str:
    return str(request.url).split("?", 1)[0]


@router.get("/metadata", summary="Metadata export")
def export_metadata(
    request: Request, runtime: RuntimeDep, viewer: ViewerDep, _: CurrentUserDep
) -> Response:
    params = request.query_params
    default_fields = params.get("fields") or ":owner"
    requested = exported_types(params)
    body: dict[str, Any] = {"system": {"id": runtime.system_id, "date": dhis2_timestamp()}}
    for schema in import_order():
        plural = schema.plural
        if plural not in requested:
            continue
        nodes = parse_fields(params.get(f"{plural}:fields") or default_fields)
        filters = [parse_filter(viewer, plural, f) for f in params.getlist(f"{plural}:filter")]
        found = select_objects(viewer, plural, viewer.store.all(plural), filters)
        found = sort_objects(viewer, plural, found, params.getlist(f"{plural}:order"))
        body[plural] = [render(viewer, plural, obj, nodes) for obj in found]
    return json_response(body)


@router.post("/metadata", summary="Metadata import (ImportReport)")
async def import_metadata(request: Request, viewer: ViewerDep, user: CurrentUserDep) -> Response:
    user.require("F_METADATA_IMPORT")
    params = request.query_params
    options = ImportOptions(  # a bad parameter is refused before the body is read
        strategy=params.get("importStrategy", "CREATE_AND_UPDATE"),
        atomic=params.get("atomicMode", "ALL"),
        mode=params.get("importMode", "COMMIT"),
        user=user.uid,
    )
    payload = await _json(request)
    if not isinstance(payload, dict):
        raise bad_request("JSON parse error: the metadata payload must be an object")
    report = unknown_types_report(payload, options)
    if report is None:
        report = run_import(viewer.store, payload, options).report()
    if report["status"] == "ERROR":
        body = web_message(
            409,
            "One or more errors occurred, please see full details in import report.",
            status="ERROR",
            response=report,
        )
        return json_response(body, status_code=409)
    return json_response(web_message(200, None, status=report["status"], response=report))


@router.get("/{collection}", summary="List metadata objects")
def list_collection(
    collection: str, request: Request, viewer: ViewerDep, user: CurrentUserDep
) -> Response:
    params = request.query_params
    body = list_objects(
        objects=_assigned_units(viewer, user, params)
        if collection == "organisationUnits"
        else None,
        viewer=viewer,
        collection=collection,
        params=dict(params),
        filters=params.getlist("filter"),
        orders=params.getlist("order"),
        url=_url(request),
        query_items=list(params.multi_items()),
    )
    return json_response(body)


@router.post("/{collection}", summary="Create one object (ObjectReport)")
async def create_object(
    collection: str, request: Request, viewer: ViewerDep, user: CurrentUserDep
) -> Response:
    schema = schema_or_404(collection)
    _require_write(user, schema)
    obj = await _json(request)
    if not isinstance(obj, dict):
        raise bad_request("JSON parse error: expected one object")
    status, report = write_one(
        viewer=viewer, collection=collection, obj=obj, strategy="CREATE", user=user.uid
    )
    return json_response(web_message(status, None, response=report), status_code=status)


@router.get("/{collection}/{uid}", summary="One metadata object")
def read_object(
    collection: str, uid: str, request: Request, viewer: ViewerDep, _: CurrentUserDep
) -> Response:
    params = request.query_params
    if collection == "organisationUnits" and _RELATIVES.intersection(params):
        return json_response(_unit_relatives(viewer, uid, dict(params)))
    fields = params.get("fields")
    return json_response(get_object(viewer=viewer, collection=collection, uid=uid, fields=fields))


_RELATIVES = frozenset({"includeChildren", "includeDescendants", "includeAncestors", "level"})


def _unit_relatives(viewer: Viewer, uid: str, params: dict[str, str]) -> dict[str, Any]:
    """DHIS2's `/organisationUnits/{id}?includeChildren|includeDescendants|includeAncestors|level`:
    a list of units, the unit itself first."""
    store = viewer.store
    unit = store.get("organisationUnits", uid)
    if unit is None:
        raise not_found(f"OrganisationUnit with id {uid} could not be found.")
    level = params.get("level")
    if level is not None:
        if not level.isdigit():
            raise bad_request(f"Invalid `level`: `{level}`")
        wanted = (store.level(uid) or 0) + int(level)
        ids = [d for d in store.descendants(uid) if store.level(d) == wanted]
    elif parse_bool(params.get("includeAncestors")):
        ids = [*(store.path(uid) or "").strip("/").split("/")]
    else:
        ids = [u["id"] for u in with_relatives(viewer, [unit], params)]
    units = [u for u in (store.get("organisationUnits", i) for i in ids) if u is not None]
    nodes = parse_fields(params.get("fields") or ":owner")
    return {"organisationUnits": [render(viewer, "organisationUnits", u, nodes) for u in units]}


@router.put("/{collection}/{uid}", summary="Replace one object (ObjectReport)")
async def replace_object(
    collection: str, uid: str, request: Request, viewer: ViewerDep, user: CurrentUserDep
) -> Response:
    schema = schema_or_404(collection)
    _require_write(user, schema)
    obj = await _json(request)
    if not isinstance(obj, dict):
        raise bad_request("JSON parse error: expected one object")
    if viewer.store.get(collection, uid) is None:
        raise not_found(f"{schema.klass.rsplit('.', 1)[1]} with id {uid} could not be found.")
    obj["id"] = uid
    status, report = write_one(
        viewer=viewer, collection=collection, obj=obj, strategy="UPDATE", user=user.uid
    )
    return json_response(web_message(status, None, response=report), status_code=status)


@router.patch("/{collection}/{uid}", summary="JSON Patch one object")
async def patch_object(
    collection: str, uid: str, request: Request, viewer: ViewerDep, user: CurrentUserDep
) -> Response:
    schema = schema_or_404(collection)
    _require_write(user, schema)
    current = viewer.store.get(collection, uid)
    if current is None:
        raise not_found(f"{schema.klass.rsplit('.', 1)[1]} with id {uid} could not be found.")
    patched = apply_patch(current, await _json(request))
    patched["id"] = uid
    status, report = write_one(
        viewer=viewer, collection=collection, obj=patched, strategy="UPDATE", user=user.uid
    )
    return json_response(web_message(status, None, response=report), status_code=status)


@router.delete("/{collection}/{uid}", summary="Delete one object (ObjectReport)")
def delete_object(collection: str, uid: str, viewer: ViewerDep, user: CurrentUserDep) -> Response:
    schema = schema_or_404(collection)
    _require_write(user, schema)
    if viewer.store.get(collection, uid) is None:
        raise not_found(f"{schema.klass.rsplit('.', 1)[1]} with id {uid} could not be found.")
    status, report = write_one(
        viewer=viewer, collection=collection, obj={"id": uid}, strategy="DELETE", user=user.uid
    )
    return json_response(web_message(status, None, response=report), status_code=status)


_UNIT_RELATIONS = ("children", "descendants", "ancestors", "parents")


@router.get(
    "/{collection}/{uid}/{prop}", summary="A property (or org unit relatives) of one object"
)
def read_property(
    collection: str, uid: str, prop: str, request: Request, viewer: ViewerDep, _: CurrentUserDep
) -> Response:
    schema = schema_or_404(collection)
    obj = viewer.store.get(collection, uid)
    if obj is None:
        raise not_found(f"{schema.klass.rsplit('.', 1)[1]} with id {uid} could not be found.")
    params = request.query_params
    if collection == "organisationUnits" and prop in _UNIT_RELATIONS:
        store = viewer.store
        if prop == "children":
            ids = [r["id"] for r in store.inverse(collection, "children", uid)]
            ids = (
                [uid, *ids] if prop == "children" and parse_bool(params.get("includeSelf")) else ids
            )
        elif prop == "descendants":
            ids = store.descendants(uid)
        else:
            path = store.path(uid) or ""
            ids = path.strip("/").split("/")[:-1]
        units = [u for u in (store.get(collection, i) for i in ids) if u is not None]
        body = list_objects(
            viewer=viewer,
            collection=collection,
            params=dict(params),
            filters=params.getlist("filter"),
            orders=params.getlist("order"),
            url=_url(request),
            query_items=list(params.multi_items()),
            objects=units,
        )
        return json_response(body)
    if schema.prop(prop) is None:
        raise not_found(f"Property `{prop}` does not exist on {schema.singular}", error_code=None)
    fields = params.get("fields") or f"{prop}[id,displayName]"
    if "[" not in fields and fields != prop:
        fields = f"{prop}[{fields}]"
    return json_response(render(viewer, collection, obj, parse_fields(fields)))
