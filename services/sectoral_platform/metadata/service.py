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


def _level(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise Dhis2Error(f"Invalid `{name}`: `{raw}`", status_code=400)
    return int(raw)


def _keep(viewer: Viewer, collection: str, params: dict[str, str]) -> Any:
    """`query=` on any identifiable type; `level`, `maxLevel`, `parent` on org units."""
    units = collection == "organisationUnits"
    level = _level(params, "level") if units else None
    max_level = _level(params, "maxLevel") if units else None
    parent = params.get("parent") if units else None
    query = (params.get("query") or "").lower()

    def keep(obj: Obj) -> bool:
        if level is not None or max_level is not None:
            found = viewer.store.level(obj["id"])
            if (level is not None and found != level) or (
                max_level is not None and (found or 0) > max_level
            ):
                return False
        if parent and (obj.get("parent") or {}).get("id") != parent:
            return False
        if query:
            hay = " ".join(str(obj.get(k, "")) for k in ("id", "name", "code", "shortName"))
            return query in hay.lower()
        return True

    return keep


def with_relatives(viewer: Viewer, units: list[Obj], params: dict[str, str]) -> list[Obj]:
    """Org units plus their children (`includeChildren`) or descendants (`includeDescendants`)."""
    store = viewer.store
    if parse_bool(params.get("includeDescendants")):
        ids = [d for u in units for d in store.descendants(u["id"])]
    elif parse_bool(params.get("includeChildren")):
        kids = (store.inverse("organisationUnits", "children", u["id"]) for u in units)
        ids = [u["id"] for u in units] + [k["id"] for group in kids for k in group]
    else:
        return units
    seen: dict[str, Obj] = {}
    for uid in ids:
        found = store.get("organisationUnits", uid)
        if found is not None:
            seen.setdefault(uid, found)
    return list(seen.values())


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
    extra = _keep(viewer, collection, params)
    pool = viewer.store.all(collection) if objects is None else objects
    if collection == "organisationUnits" and objects is not None:
        pool = with_relatives(viewer, pool, params)
    found = select_objects(
        viewer, collection, pool, parsed, params.get("rootJunction", "AND"), extra
    )
    found = sort_objects(viewer, collection, found, orders)
    if collection == "organisationUnits" and parse_bool(params.get("levelSorted")):
        found.sort(key=lambda o: viewer.store.level(o["id"]) or 0)
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
