"""`/api/tracker/relationships` reads: by a linked object or by uid, as DHIS2 renders them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.errors import bad_request, not_found
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.tracker.reads import Page, paged
from services.sectoral_platform.tracker.relationships import REL
from services.sectoral_platform.tracker.state import EN, EV, TE

Obj = dict[str, Any]
LABELS = {"trackedEntity": "TrackedEntity", "enrollment": "Enrollment", "event": "Event"}
_TABLES = {"trackedEntity": TE, "enrollment": EN, "event": EV}


def relationship_page(engine: Engine, *, params: Any, scope: Scope) -> tuple[list[Obj], Obj | None]:
    """The relationships of the one tracked entity, enrollment or event the query names."""
    named = [(k, params[k]) for k in _TABLES if params.get(k)]
    if not named:
        raise bad_request("Missing required parameter 'trackedEntity', 'enrollment' or 'event'.")
    if len(named) > 1:
        raise bad_request(
            "Only one of parameters 'trackedEntity', 'enrollment' or 'event' is allowed."
        )
    kind, uid = named[0]
    table = _TABLES[kind]
    with engine.connect() as conn:
        path = conn.execute(select(table.c.ou_path).where(table.c.uid == uid)).scalar()
    if path is None or not scope.covers_path(Kind.SEARCH, path):
        raise not_found(f"{LABELS[kind]} with id {uid} could not be found.", None)
    seen = [
        scope.condition(Kind.SEARCH, REL.c.from_path),
        scope.condition(Kind.SEARCH, REL.c.to_path),
    ]
    query = select(REL).where(
        or_(REL.c.from_uid == uid, REL.c.to_uid == uid), *[c for c in seen if c is not None]
    )
    return paged(engine, query, [REL.c.created, REL.c.uid], Page.parse(params))


def visible(row: Obj, scope: Scope) -> bool:
    """Both ends must be in the caller's search scope."""
    return scope.covers_path(Kind.SEARCH, row["from_path"]) and scope.covers_path(
        Kind.SEARCH, row["to_path"]
    )


def relationship(engine: Engine, uid: str) -> Obj | None:
    with engine.connect() as conn:
        row = conn.execute(select(REL).where(REL.c.uid == uid)).mappings().first()
    return None if row is None else dict(row)


def of_objects(engine: Engine, uids: list[str]) -> dict[str, list[Obj]]:
    """The relationships of each of `uids` (either end), for nested `relationships` fields."""
    found: dict[str, list[Obj]] = {}
    if not uids:
        return found
    with engine.connect() as conn:
        query = select(REL).where(or_(REL.c.from_uid.in_(uids), REL.c.to_uid.in_(uids)))
        for row in conn.execute(query.order_by(REL.c.created, REL.c.uid)).mappings():
            for end in {row["from_uid"], row["to_uid"]} & set(uids):
                found.setdefault(end, []).append(dict(row))
    return found


def wire(row: Obj, store: MetadataStore) -> Obj:
    rel_type = store.get("relationshipTypes", row["relationship_type"]) or {}
    return {
        "relationship": row["uid"],
        "relationshipType": row["relationship_type"],
        "relationshipName": rel_type.get("name", ""),
        "bidirectional": bool(rel_type.get("bidirectional")),
        "createdAt": row["created"],
        "createdAtClient": row.get("created_at_client") or row["created"],
        "updatedAt": row["updated"],
        "from": {row["from_kind"]: {row["from_kind"]: row["from_uid"]}},
        "to": {row["to_kind"]: {row["to_kind"]: row["to_uid"]}},
    }
