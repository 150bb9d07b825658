"""What the database already holds about the objects a bundle mentions (one query per kind)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from services.sectoral_platform.base import table_of
from services.sectoral_platform.tracker.bundle import Bundle, ref
from services.sectoral_platform.tracker.models import (
    Enrollment,
    Event,
    TrackedEntity,
    TrackedEntityAttributeValue,
)

TE = table_of(TrackedEntity)
TEAV = table_of(TrackedEntityAttributeValue)
EN = table_of(Enrollment)
EV = table_of(Event)
CHUNK = 500


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ExistingState:
    tracked_entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    enrollments: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (attribute, value) -> owning tracked entity, for the unique attributes the bundle uses
    unique_owner: dict[tuple[str, str], str] = field(default_factory=dict)
    # (tracked entity, program) -> statuses of its stored enrollments
    enrollment_statuses: dict[tuple[str, str], list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # (enrollment, program stage) -> stored events, for non-repeatable stages
    stage_events: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    notes: set[str] = field(default_factory=set)  # note uids taken (stored or planned)
    conn: Connection | None = None  # for what only program rules need, read on demand
    _attributes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def has_children(self, kind: str, uid: str) -> bool:
        """Whether a stored tracked entity has enrollments (an enrollment, events)."""
        if self.conn is None:
            return False
        table, column = (EN, EN.c.te) if kind == "TRACKED_ENTITY" else (EV, EV.c.enrollment)
        found = self.conn.execute(select(table.c.uid).where(column == uid).limit(1)).first()
        return found is not None

    def te_attributes(self, te: str) -> dict[str, str]:
        """A stored tracked entity's attribute values."""
        row = self.tracked_entities.get(te)
        if row is not None:
            items = row.get("attributes") or []
        elif te in self._attributes or self.conn is None:
            items = self._attributes.get(te, [])
        else:
            found = self.conn.execute(select(TE.c.attributes).where(TE.c.uid == te)).scalar()
            items = self._attributes[te] = found or []
        return {a["attribute"]: a["value"] for a in items}


def load_state(
    conn: Connection, bundle: Bundle, unique_values: set[tuple[str, str]]
) -> ExistingState:
    state = ExistingState(conn=conn)
    te_ids = {te["trackedEntity"] for te in bundle.tracked_entities}
    te_ids |= {u for u in (ref(e.get("trackedEntity")) for e in bundle.enrollments) if u}
    for part in chunks(te_ids):
        for row in conn.execute(select(TE).where(TE.c.uid.in_(part))).mappings():
            state.tracked_entities[row["uid"]] = dict(row)
    en_ids = {e["enrollment"] for e in bundle.enrollments}
    en_ids |= {u for u in (ref(e.get("enrollment")) for e in bundle.events) if u}
    for part in chunks(en_ids):
        for row in conn.execute(select(EN).where(EN.c.uid.in_(part))).mappings():
            state.enrollments[row["uid"]] = dict(row)
    for part in chunks({e["event"] for e in bundle.events}):
        columns = (EV.c.uid, EV.c.enrollment, EV.c.program, EV.c.program_stage, EV.c.created,
                   EV.c.org_unit, EV.c.ou_path, EV.c.completed_at, EV.c.notes,
                   EV.c.data_values, EV.c.assigned_user,
                   EV.c.status.label("stored_status"))  # fmt: skip
        for row in conn.execute(select(*columns).where(EV.c.uid.in_(part))).mappings():
            state.events[row["uid"]] = dict(row)
    for part in chunks({u for u in (ref(e.get("enrollment")) for e in bundle.events) if u}):
        query = select(EV.c.uid, EV.c.enrollment, EV.c.program_stage).where(
            EV.c.enrollment.in_(part)
        )
        for uid, enrollment, stage in conn.execute(query):
            state.stage_events[(enrollment, stage)].add(uid)
    for part in chunks(unique_values):
        query = select(TEAV.c.attribute, TEAV.c.value, TEAV.c.te).where(
            tuple_(TEAV.c.attribute, TEAV.c.value).in_(part)
        )
        for attribute, value, te in conn.execute(query):
            state.unique_owner[(attribute, value)] = te
    for part in chunks({ref(e.get("trackedEntity")) for e in bundle.enrollments} - {None}):
        query = select(EN.c.uid, EN.c.te, EN.c.program, EN.c.status).where(EN.c.te.in_(part))
        for found in conn.execute(query).mappings():
            key = (found["te"], found["program"])
            state.enrollment_statuses[key].append((found["uid"], found["status"]))
    return state
