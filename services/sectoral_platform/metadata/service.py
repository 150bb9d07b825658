"""Listing and single-object operations over any registered metadata type."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.dhis2.web import parse_bool
from services.sectoral_platform.errors import Dhis2Error, not_found
from services.sectoral_platform.metadata.fields import parse_fields, render
from services.sectoral_platform.metadata.importer import ImportResult, run_import
from services.sectoral_platform.metadata.query import (
    Filter,
    pager,
    parse_filter,
    select_objects,
    sort_objects,
)
from services.sectoral_platform.metadata.schema import SCHEMAS
from services.sectoral_platform.metadata.schema_types import TypeSchema
from services.sectoral_platform.metadata.store import Obj
from services.sectoral_platform.metadata.validation import ImportOptions
from services.sectoral_platform.metadata.wire import Viewer


def schema_or_404(collection: str) -> TypeSchema:
    schema = SCHEMAS.get(collection)
    if schema is None:
        raise not_found(f"No endpoint /api/{collection}", error_code=None)
    return schema


def _int_param(params: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise Dhis2Error(f"Invalid `{name}`: `{raw}` is not a number", status_code=400) from exc
    return max(value, minimum)


def _org_unit_scope(viewer: Viewer, params: dict[str, str]) -> Any:
    level = params.get("level")
    parent = params.get("parent")
    query = (params.get("query") or "").lower()
    if level is not None and not level.isdigit():
        raise Dhis2Error(f"Invalid `level`: `{level}`", status_code=400)

    def keep(obj: Obj) -> bool:
        if level is not None and viewer.store.level(obj["id"]) != int(level):
            return False
        if parent and (obj.get("parent") or {}).get("id") != parent:
            return False
        if query:
            hay = " ".join(str(obj.get(k, "")) for k in ("id", "name", "code", "shortName"))
            return query in hay.lower()
        return True

    return keep


def list_objects(
    *,
    viewer: Viewer,
    collection: str,
    params: dict[str, str],
    filters: list[str],
    orders: list[str],
    url: str,
    query_items: list[tuple[str, str]],
    objects: list[Obj] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A DHIS2 list: filtered, ordered, paged (unless `paging=false`), shaped by `fields`."""
    schema = schema_or_404(collection)
    nodes = parse_fields(params.get("fields"))
    parsed: list[Filter] = [parse_filter(viewer, collection, f) for f in filters]
    extra = _org_unit_scope(viewer, params) if collection == "organisationUnits" else None
    pool = viewer.store.all(collection) if objects is None else objects
    found = select_objects(
        viewer, collection, pool, parsed, params.get("rootJunction", "AND"), extra
    )
    found = sort_objects(viewer, collection, found, orders)
    body: dict[str, Any] = {}
    if parse_bool(params.get("paging"), True):
        page = _int_param(params, "page", 1)
        page_size = _int_param(params, "pageSize", 50)
        body["pager"] = pager(
            total=len(found), page=page, page_size=page_size, url=url, params=query_items
        )
        found = found[(page - 1) * page_size : page * page_size]
    body[key or schema.plural] = [render(viewer, collection, obj, nodes) for obj in found]
    return body


def get_object(*, viewer: Viewer, collection: str, uid: str, fields: str | None) -> dict[str, Any]:
    schema = schema_or_404(collection)
    obj = viewer.store.get(collection, uid)
    if obj is None:
        raise not_found(f"{schema.klass.rsplit('.', 1)[1]} with id {uid} could not be found.")
    return render(viewer, collection, obj, parse_fields(fields or "*"))


def object_report(schema: TypeSchema, result: ImportResult) -> dict[str, Any]:
    outcome = result.outcomes[0]
    return {
        "responseType": "ObjectReport",
        "uid": outcome.uid,
        "klass": schema.klass,
        "index": 0,
        "errorReports": outcome.errors,
    }


def write_one(
    *, viewer: Viewer, collection: str, obj: Obj, strategy: str, user: str
) -> tuple[int, dict[str, Any]]:
    """POST/PUT/DELETE of one object as a one-object import, answered with an ObjectReport."""
    schema = schema_or_404(collection)
    result = run_import(
        viewer.store, {collection: [obj]}, ImportOptions(strategy=strategy, user=user)
    )
    report = object_report(schema, result)
    if result.has_errors:
        raise Dhis2Error(
            "One or more errors occurred, please see full details in import report.",
            status_code=409,
            response=report,
        )
    return (201 if strategy == "CREATE" else 200), report
