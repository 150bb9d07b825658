"""Relationships in a tracker import: what is stored about their ends, DHIS2's E4000-range
checks, and their writes (a deleted tracker object takes its relationships with it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.engine import Connection

from services.sectoral_platform.auth.scope import in_hierarchy
from services.sectoral_platform.base import table_of
from services.sectoral_platform.dhis2.uid import is_valid_uid
from services.sectoral_platform.tracker.bundle import Bundle, instant, ref
from services.sectoral_platform.tracker.checks import EN, EV, TE, Checks, Obj, Planned
from services.sectoral_platform.tracker.codes import report
from services.sectoral_platform.tracker.models import Relationship
from services.sectoral_platform.tracker.state import EN as EN_TABLE
from services.sectoral_platform.tracker.state import EV as EV_TABLE
from services.sectoral_platform.tracker.state import TE as TE_TABLE
from services.sectoral_platform.tracker.state import chunks

REL = table_of(Relationship)
RL = "RELATIONSHIP"
ITEM_KINDS = {"trackedEntity": TE, "enrollment": EN, "event": EV}
# relationshipEntity of a constraint -> the item key it requires
ENTITY_ITEMS = {
    "TRACKED_ENTITY_INSTANCE": "trackedEntity",
    "PROGRAM_INSTANCE": "enrollment",
    "PROGRAM_STAGE_INSTANCE": "event",
}
_TABLES = {"trackedEntity": TE_TABLE, "enrollment": EN_TABLE, "event": EV_TABLE}


def item(value: Any) -> tuple[str, str] | None:
    """(kind, uid) of a relationship end: `{"trackedEntity": "uid"}` or the read form
    `{"trackedEntity": {"trackedEntity": "uid"}}`; None unless exactly one end is named."""
    if not isinstance(value, dict):
        return None
    found = []
    for key in ITEM_KINDS:
        raw = value.get(key)
        uid = raw.get(key) if isinstance(raw, dict) else raw
        if isinstance(uid, str) and uid:
            found.append((key, uid))
    return found[0] if len(found) == 1 else None


@dataclass
class LinkState:
    """Stored relationships the bundle names, and the stored objects its relationships link."""

    existing: dict[str, Obj] = field(default_factory=dict)
    # (kind, uid) -> (org unit path, tracked entity type or None)
    ends: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    # (type, from kind, from uid, to kind, to uid) of stored relationships between those ends
    links: set[tuple[str, str, str, str, str]] = field(default_factory=set)


def load_links(conn: Connection, bundle: Bundle) -> LinkState:
    state = LinkState()
    if not bundle.relationships:
        return state
    uids = {str(r.get("relationship")) for r in bundle.relationships}
    for part in chunks(uids):
        for row in conn.execute(select(REL).where(REL.c.uid.in_(part))).mappings():
            state.existing[row["uid"]] = dict(row)
    wanted: dict[str, set[str]] = {k: set() for k in ITEM_KINDS}
    for rel in bundle.relationships:
        for side in ("from", "to"):
            end = item(rel.get(side))
            if end is not None:
                wanted[end[0]].add(end[1])
    for kind, table in _TABLES.items():
        tet = table.c.tracked_entity_type if kind == "trackedEntity" else None
        columns = [table.c.uid, table.c.ou_path] + ([tet] if tet is not None else [])
        for part in chunks(wanted[kind]):
            for end in conn.execute(select(*columns).where(table.c.uid.in_(part))):
                state.ends[(kind, end[0])] = (end[1], end[2] if tet is not None else None)
    every = set().union(*wanted.values())
    for part in chunks(every):
        query = select(
            REL.c.relationship_type, REL.c.from_kind, REL.c.from_uid, REL.c.to_kind, REL.c.to_uid
        ).where(or_(REL.c.from_uid.in_(part), REL.c.to_uid.in_(part)))
        for link in conn.execute(query):
            state.links.add((link[0], link[1], link[2], link[3], link[4]))
    return state


def check_relationships(c: Checks, bundle: Bundle, links: LinkState) -> None:
    """Plans each relationship or reports why not (E4000-E4018, E1124, E5000)."""
    for rel in bundle.relationships:
        uid = str(rel.get("relationship"))
        stored = links.existing.get(uid)
        strategy = c.params.strategy
        if not is_valid_uid(uid):
            c.fail(RL, uid, "E1048", "Relationship", uid)
        elif stored is not None and strategy == "CREATE":
            c.fail(RL, uid, "E4015", uid)
        elif stored is None and strategy in ("UPDATE", "DELETE"):
            c.fail(RL, uid, "E4016", uid)
        elif stored is not None and strategy == "DELETE":
            if c.capture is None or in_hierarchy(stored["from_path"], c.capture):
                c.out.planned[RL].append(Planned(RL, uid, "delete", {}))
            else:
                c.fail(RL, uid, "E1000", stored["from_path"].rsplit("/", 1)[-1])
        elif stored is not None:
            # DHIS2 does not update relationships: a stored one is left as it is
            c.out.warnings.append(report("E4015", RL, uid, uid))
        else:
            planned = _relationship(c, uid, rel, links)
            if planned is not None:
                c.out.planned[RL].append(Planned(RL, uid, "create", planned))


def _relationship(c: Checks, uid: str, rel: Obj, links: LinkState) -> Obj | None:
    before = len(c.out.errors)
    type_uid = ref(rel.get("relationshipType"))
    rel_type = c.meta.store.get("relationshipTypes", type_uid or "") if type_uid else None
    if type_uid is None:
        c.fail(RL, uid, "E1124", "relationshipType")
    elif rel_type is None:
        c.fail(RL, uid, "E4006", type_uid)
    ends: list[tuple[str, str]] = []
    for side in ("from", "to"):
        if rel.get(side) is None:
            c.fail(RL, uid, "E1124", side)
            continue
        end = item(rel.get(side))
        if end is None:
            c.fail(RL, uid, "E4001", side, uid)
            continue
        ends.append(end)
    if len(ends) == 2 and ends[0] == ends[1]:
        c.fail(RL, uid, "E4000", uid)
    if rel_type is None or len(ends) != 2 or len(c.out.errors) != before:
        return None
    paths = []
    for end, side in zip(ends, ("fromConstraint", "toConstraint"), strict=True):
        path = _end(c, uid, type_uid or "", rel_type.get(side) or {}, end, links)
        paths.append(path)
    if len(c.out.errors) != before or None in paths:
        return None
    key = (str(type_uid), *ends[0], *ends[1])
    inverse = (str(type_uid), *ends[1], *ends[0])
    taken = key in links.links or (bool(rel_type.get("bidirectional")) and inverse in links.links)
    if taken:
        c.fail(RL, uid, "E4018", uid, ends[0][0], ends[0][1], ends[1][0], ends[1][1])
        return None
    outside = [p for p in paths if c.capture is not None and not in_hierarchy(p, c.capture)]
    if outside:  # both ends: a relationship must not reveal what lies outside the scope
        c.fail(RL, uid, "E1000", str(outside[0]).rsplit("/", 1)[-1])
        return None
    links.links.add(key)
    return {
        "relationship_type": type_uid,
        "from_kind": ends[0][0],
        "from_uid": ends[0][1],
        "to_kind": ends[1][0],
        "to_uid": ends[1][1],
        "from_path": paths[0],
        "to_path": paths[1],
        "created_at_client": instant(rel.get("createdAtClient")),
    }


def _end(
    c: Checks, uid: str, type_uid: str, constraint: Obj, end: tuple[str, str], links: LinkState
) -> str | None:
    """The linked object's org unit path, after the constraint and existence checks."""
    kind, target = end
    needed = ENTITY_ITEMS.get(str(constraint.get("relationshipEntity")))
    if needed != kind:
        c.fail(RL, uid, "E4010", type_uid, needed, kind)
        return None
    tracker_kind = ITEM_KINDS[kind]
    if target in c.out.failed[tracker_kind]:
        c.fail(RL, uid, "E5000", RL, uid, tracker_kind, target)
        return None
    planned = next((p for p in c.out.planned[tracker_kind] if p.uid == target), None)
    if planned is not None and planned.action != "delete":
        path = c.meta.path(planned.obj["org_unit"])
        tet = planned.obj.get("tracked_entity_type")
    elif (kind, target) in links.ends and planned is None:
        path, tet = links.ends[(kind, target)]
    else:
        c.fail(RL, uid, "E4012", kind, target)
        return None
    wanted_tet = ((constraint.get("trackedEntityType") or {}).get("id")
                  if kind == "trackedEntity" else None)  # fmt: skip
    if wanted_tet is not None and tet != wanted_tet:
        c.fail(RL, uid, "E4014", type_uid, wanted_tet, tet)
        return None
    return path


def persist(conn: Connection, planned: list[Planned], now: str) -> None:
    gone = [p.uid for p in planned if p.action == "delete"]
    for part in chunks(gone):
        conn.execute(delete(REL).where(REL.c.uid.in_(part)))
    rows = [
        {"uid": p.uid, **p.obj, "created": now, "updated": now}
        for p in planned
        if p.action == "create"
    ]
    if rows:
        conn.execute(insert(REL), rows)


def cascade(conn: Connection, uids: list[str]) -> None:
    """Relationships linking any of `uids` go with them (DHIS2 deletes them too)."""
    for part in chunks(uids):
        conn.execute(delete(REL).where(or_(REL.c.from_uid.in_(part), REL.c.to_uid.in_(part))))
