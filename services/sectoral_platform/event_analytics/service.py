"""Event analytics from current data: the query (one row per event) and the aggregate (counts or
a value aggregated per item values, period and org unit)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.event_analytics import reads
from services.sectoral_platform.event_analytics.filters import matches
from services.sectoral_platform.event_analytics.grid import (
    cell,
    header,
    item_header,
    metadata,
    number,
    timestamp,
)
from services.sectoral_platform.event_analytics.items import Item
from services.sectoral_platform.event_analytics.models import ROLLUP_LEVEL
from services.sectoral_platform.event_analytics.paging import grid, page, sort_rows
from services.sectoral_platform.event_analytics.request import EventRequest
from services.sectoral_platform.metadata.store import MetadataStore

Obj = dict[str, Any]


def unit_paths(store: MetadataStore, units: list[str]) -> dict[str, str]:
    return {p: u for u in units if (p := store.path(u)) is not None}


def event_value(event: Obj, item: Item) -> str | None:
    if item.stage and event["program_stage"] != item.stage:
        return None
    for dv in event["data_values"]:
        if dv.get("dataElement") == item.uid:
            value = dv.get("value")
            return None if value is None else str(value)
    return None


def load_events(engine: Engine, store: MetadataStore, req: EventRequest, *, mode: str) -> list[Obj]:
    """Matching events, each with `_enrollment` (row or None) and `_attrs`, filters applied."""
    paths = unit_paths(store, req.units)
    attribute_items = [i.uid for i in req.items if i.kind == "attribute"]
    if req.value is not None and req.value.kind == "attribute":
        attribute_items.append(req.value.uid)
    with engine.connect() as conn:
        found = reads.events(
            conn, program=req.program["id"], stage=req.stage, ranges=req.ranges, paths=paths,
            mode=mode, statuses=req.event_status,
        )  # fmt: skip
        enrollments = reads.enrollments_by_uid(
            conn, {e["enrollment"] for e in found if e["enrollment"]}
        )
        attrs = reads.attributes(conn, {e["te"] for e in found if e["te"]}, attribute_items)
    kept = []
    for event in found:
        enrollment = enrollments.get(event["enrollment"] or "")
        if req.program_status and (enrollment or {}).get("status") not in req.program_status:
            continue
        event["_enrollment"] = enrollment
        event["_attrs"] = attrs.get(event["te"] or "", {})
        if all(matches(i, item_value(event, i)) for i in req.items):
            kept.append(event)
    return kept


def item_value(event: Obj, item: Item) -> str | None:
    if item.kind == "attribute":
        found: str | None = event["_attrs"].get(item.uid)
        return found
    return event_value(event, item)


def query(
    engine: Engine, store: MetadataStore, req: EventRequest, asc: list[str], desc: list[str]
) -> Obj:
    events = load_events(engine, store, req, mode=req.ou_mode)
    registration = req.program.get("programType") == "WITH_REGISTRATION"
    columns = [i for i in req.items if not i.is_filter]
    headers = [
        header("psi", "Event"), header("ps", "Program stage"),
        header("eventdate", "Event date", "DATE"), header("storedby", "Stored by"),
        header("createdbydisplayname", "Created by"),
        header("lastupdatedbydisplayname", "Last updated by"),
        header("lastupdated", "Last updated on", "DATE"),
        header("scheduleddate", "Scheduled date", "DATE"),
    ]  # fmt: skip
    if registration:
        headers += [
            header("enrollmentdate", "Enrollment date", "DATE"),
            header("incidentdate", "Incident date", "DATE"),
            header("tei", "Tracked entity instance"), header("pi", "Program instance"),
        ]  # fmt: skip
    headers += [
        header("geometry", "Geometry"), header("longitude", "Longitude", "NUMBER"),
        header("latitude", "Latitude", "NUMBER"), header("ouname", "Organisation unit name"),
        header("oucode", "Organisation unit code"), header("programstatus", "Program status"),
        header("eventstatus", "Event status"), header("ou", "Organisation unit"),
    ]  # fmt: skip
    headers += [item_header(i, with_stage=True) for i in columns]
    rows = []
    for e in events:
        unit = store.get("organisationUnits", e["org_unit"]) or {}
        en = e["_enrollment"] or {}
        row = [
            e["uid"], e["program_stage"], timestamp(e["occurred_at"]), "", "", "",
            timestamp(e["updated"]), timestamp(e["scheduled_at"]),
        ]  # fmt: skip
        if registration:
            row += [timestamp(en.get("enrolled_at")), timestamp(en.get("occurred_at")),
                    e["te"] or "", e["enrollment"] or ""]  # fmt: skip
        row += ["", "", "", str(unit.get("name") or ""), str(unit.get("code") or ""),
                str(en.get("status") or ""), e["status"], e["org_unit"]]  # fmt: skip
        rows.append(row + [cell(i, item_value(e, i)) for i in columns])
    rows = sort_rows(headers, rows, asc, desc, default="eventdate")
    meta = metadata(store, req, {e["org_unit"] for e in events}, with_stage=True)
    return page(req, headers, rows, meta)


def _months(start: date, end: date) -> list[str] | None:
    """The months a range covers exactly, or None when it starts or ends inside a month."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1:
        return None
    months, current = [], start
    while current <= end:
        months.append(current.isoformat()[:7])
        current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _ranges(req: EventRequest) -> list[tuple[str | None, date, date]]:
    if req.periods:
        return [(None if req.pe_filter else p.id, p.start, p.end) for p in req.periods]
    assert req.start and req.end
    return [(None, date.fromisoformat(req.start), date.fromisoformat(req.end))]


def aggregate(engine: Engine, store: MetadataStore, req: EventRequest) -> Obj:
    columns = [i for i in req.items if not i.is_filter]
    headers = [item_header(i, with_stage=False) for i in columns]
    if req.periods and not req.pe_filter:
        headers.append(header("pe", "Period"))
    if not req.ou_filter:
        headers.append(header("ou", "Organisation unit"))
    headers.append(header("value", "Value", "NUMBER", meta=False))
    paths = unit_paths(store, req.units)
    cells = _from_rollup(engine, req, paths) if _rollup_answers(req, paths) else None
    if cells is None:
        cells = _from_events(engine, store, req, paths, columns)
    rows = []
    for key, value in sorted(cells.items()):
        if value is None:
            continue
        row = list(key[: len(columns)])
        pe, ou = key[len(columns)], key[len(columns) + 1]
        row += ([pe] if req.periods and not req.pe_filter else []) + ([] if req.ou_filter else [ou])
        rows.append([str(v) for v in row] + [number(value)])
    return grid(headers, metadata(store, req, set(), with_stage=False), rows)


def _rollup_answers(req: EventRequest, paths: dict[str, str]) -> bool:
    return (
        not req.items and req.value is None and not req.program_status
        and all(p.count("/") <= ROLLUP_LEVEL for p in paths)
        and all(_months(s, e) is not None for _, s, e in _ranges(req))
    )  # fmt: skip


def _from_rollup(
    engine: Engine, req: EventRequest, paths: dict[str, str]
) -> dict[tuple[Any, ...], float | None]:
    by_month: dict[str, list[str | None]] = defaultdict(list)
    for pe, start, end in _ranges(req):
        for month in _months(start, end) or []:
            by_month[month].append(pe)
    with engine.connect() as conn:
        found = reads.counts(
            conn, program=req.program["id"], stage=req.stage, statuses=req.event_status,
            months=sorted(by_month), paths=list(paths),
        )  # fmt: skip
    cells: dict[tuple[Any, ...], float | None] = defaultdict(float)
    for path, month, n in found:
        ou = None if req.ou_filter else paths[path]
        for pe in set(by_month[month]):
            cells[(pe, ou)] = (cells[(pe, ou)] or 0.0) + n
    return dict(cells)


def _from_events(
    engine: Engine,
    store: MetadataStore,
    req: EventRequest,
    paths: dict[str, str],
    columns: list[Item],
) -> dict[tuple[Any, ...], float | None]:
    ranges = _ranges(req)
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for event in load_events(engine, store, req, mode="DESCENDANTS"):
        day = (event["occurred_at"] or "")[:10]
        pes = {pe for pe, s, e in ranges if s.isoformat() <= day <= e.isoformat()}
        ous = (
            {None}
            if req.ou_filter
            else {paths[a] for a in reads.ancestors(event["ou_path"]) if a in paths}
        )
        values = tuple(cell(i, item_value(event, i)) for i in columns)
        measure = 1.0
        if req.value is not None:
            raw = item_value(event, req.value)
            try:
                measure = float(raw) if raw is not None else math.nan
            except ValueError:
                measure = math.nan
        for pe in pes:
            for ou in ous:
                groups[(*values, pe, ou)].append(measure)
    aggregation = req.aggregation or (
        "COUNT" if req.value is None else _element_aggregation(store, req.value)
    )
    return {key: _combine(found, aggregation) for key, found in groups.items()}


def _element_aggregation(store: MetadataStore, item: Item) -> str:
    plural = "dataElements" if item.kind == "dataElement" else "trackedEntityAttributes"
    found = str((store.get(plural, item.uid) or {}).get("aggregationType") or "AVERAGE")
    return found if found in ("SUM", "AVERAGE", "COUNT", "MIN", "MAX") else "AVERAGE"


def _combine(values: list[float], aggregation: str) -> float | None:
    present = [v for v in values if not math.isnan(v)]
    if aggregation == "COUNT":
        return float(len(present))
    if not present:
        return None
    if aggregation == "SUM":
        return sum(present)
    if aggregation == "MIN":
        return min(present)
    if aggregation == "MAX":
        return max(present)
    return sum(present) / len(present)
