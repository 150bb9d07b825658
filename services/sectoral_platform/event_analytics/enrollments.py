"""Enrollment query analytics: one row per enrollment, stage data elements from the newest event
of that stage, attributes of the tracked entity."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.event_analytics import reads
from services.sectoral_platform.event_analytics.filters import matches
from services.sectoral_platform.event_analytics.grid import (
    cell,
    header,
    item_header,
    metadata,
    timestamp,
)
from services.sectoral_platform.event_analytics.items import Item
from services.sectoral_platform.event_analytics.paging import page, sort_rows
from services.sectoral_platform.event_analytics.request import EventRequest
from services.sectoral_platform.event_analytics.service import event_value, unit_paths
from services.sectoral_platform.metadata.store import MetadataStore

Obj = dict[str, Any]


def load_enrollments(
    engine: Engine, store: MetadataStore, req: EventRequest, *, mode: str
) -> list[tuple[Obj, list[Obj], dict[str, str]]]:
    """(enrollment, its events oldest first, its attribute values) passing the item filters."""
    attribute_items = [i.uid for i in req.items if i.kind == "attribute"]
    with engine.connect() as conn:
        found = reads.enrollments(
            conn, program=req.program["id"], ranges=req.ranges,
            paths=unit_paths(store, req.units), mode=mode, statuses=req.program_status,
        )  # fmt: skip
        events = reads.events_of(conn, [e["uid"] for e in found])
        attrs = reads.attributes(conn, {e["te"] for e in found}, attribute_items)
    kept = []
    for enrollment in found:
        own = events.get(enrollment["uid"], [])
        values = attrs.get(enrollment["te"], {})
        if all(matches(i, value_of(i, own, values)) for i in req.items):
            kept.append((enrollment, own, values))
    return kept


def value_of(item: Item, events: list[Obj], attrs: dict[str, str]) -> str | None:
    """An attribute's value, or the stage's newest event's value of the data element."""
    if item.kind == "attribute":
        return attrs.get(item.uid)
    of_stage = [e for e in events if e["program_stage"] == item.stage]
    return event_value(of_stage[-1], item) if of_stage else None


def query(
    engine: Engine, store: MetadataStore, req: EventRequest, asc: list[str], desc: list[str]
) -> Obj:
    found = load_enrollments(engine, store, req, mode=req.ou_mode)
    columns = [i for i in req.items if not i.is_filter]
    headers = [
        header("pi", "Enrollment"), header("tei", "Tracked entity instance"),
        header("enrollmentdate", "Enrollment date", "DATE"),
        header("incidentdate", "Incident date", "DATE"), header("storedby", "Stored by"),
        header("createdbydisplayname", "Created by"),
        header("lastupdatedbydisplayname", "Last updated by"),
        header("lastupdated", "Last updated on", "DATE"), header("geometry", "Geometry"),
        header("longitude", "Longitude", "NUMBER"), header("latitude", "Latitude", "NUMBER"),
        header("ouname", "Organisation unit name"),
        header("ounamehierarchy", "Organisation unit name hierarchy"),
        header("oucode", "Organisation unit code"), header("programstatus", "Program status"),
        header("ou", "Organisation unit"),
    ]  # fmt: skip
    headers += [item_header(i, with_stage=True) for i in columns]
    rows = []
    for enrollment, events, attrs in found:
        unit = store.get("organisationUnits", enrollment["org_unit"]) or {}
        row = [
            enrollment["uid"], enrollment["te"], timestamp(enrollment["enrolled_at"]),
            timestamp(enrollment["occurred_at"]), "", "", "", timestamp(enrollment["updated"]),
            "", "", "", str(unit.get("name") or ""), _hierarchy(store, enrollment["org_unit"]),
            str(unit.get("code") or ""), enrollment["status"], enrollment["org_unit"],
        ]  # fmt: skip
        rows.append(row + [cell(i, value_of(i, events, attrs)) for i in columns])
    rows = sort_rows(headers, rows, asc, desc, default="enrollmentdate")
    units = {e["org_unit"] for e, _, _ in found}
    return page(req, headers, rows, metadata(store, req, units, with_stage=True))


def _hierarchy(store: MetadataStore, unit: str) -> str:
    path = store.path(unit) or ""
    names = [
        str((store.get("organisationUnits", u) or {}).get("name") or u)
        for u in path.split("/")
        if u
    ]
    return " / ".join(names)
