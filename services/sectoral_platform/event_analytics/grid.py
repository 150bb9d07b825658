"""DHIS2's analytics grid pieces for events and enrollments: headers, metaData, value strings."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.event_analytics.items import Item
from services.sectoral_platform.event_analytics.request import EventRequest
from services.sectoral_platform.metadata.store import MetadataStore

JAVA_TYPES = {
    "BOOLEAN": "java.lang.Boolean", "TRUE_ONLY": "java.lang.Boolean",
    "DATE": "java.time.LocalDate", "DATETIME": "java.time.LocalDateTime",
    "NUMBER": "java.lang.Double", "UNIT_INTERVAL": "java.lang.Double",
    "PERCENTAGE": "java.lang.Double", "INTEGER": "java.lang.Integer",
    "INTEGER_POSITIVE": "java.lang.Integer", "INTEGER_NEGATIVE": "java.lang.Integer",
    "INTEGER_ZERO_OR_POSITIVE": "java.lang.Integer", "AGE": "java.util.Date",
    "COORDINATE": "org.locationtech.jts.geom.Geometry",
    "ORGANISATION_UNIT": "org.hisp.dhis.organisationunit.OrganisationUnit",
}  # fmt: skip


def header(
    name: str, column: str, value_type: str = "TEXT", meta: bool = True, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "column": column,
        "valueType": value_type,
        "type": JAVA_TYPES.get(value_type, "java.lang.String"),
        "hidden": False,
        "meta": meta,
        **extra,
    }


def item_header(item: Item, *, with_stage: bool) -> dict[str, Any]:
    found = header(item.key if with_stage else item.uid, item.name, item.value_type)
    if item.option_set:
        found["optionSet"] = item.option_set
    return found


def timestamp(value: str | None) -> str:
    """DHIS2's analytics date format: `2024-03-01 00:00:00.0`."""
    if not value:
        return ""
    day, _, time = value.partition("T")
    clock = (time or "00:00:00.000")[:8]
    millis = (time[9:12] if len(time) >= 12 else "0").rstrip("0") or "0"
    return f"{day} {clock}.{millis}"


def cell(item: Item, raw: str | None) -> str:
    """A stored value as analytics shows it: booleans as 1/0, everything else as stored."""
    if raw is None:
        return ""
    if item.value_type in ("BOOLEAN", "TRUE_ONLY"):
        return {"true": "1", "false": "0"}.get(raw.lower(), raw)
    return raw


def number(value: float) -> str:
    rounded = round(value, 2)
    return str(int(rounded)) if float(rounded).is_integer() else str(rounded)


def metadata(
    store: MetadataStore, req: EventRequest, units_seen: set[str], *, with_stage: bool
) -> dict[str, Any]:
    """metaData.items (names) and metaData.dimensions (items of each dimension)."""
    items: dict[str, dict[str, str]] = {
        "ou": {"name": "Organisation unit"},
        "pe": {"name": "Period"},
        req.program["id"]: {"name": str(req.program.get("name") or req.program["id"])},
    }
    for ref in store.inverse("programs", "programStages", req.program["id"]):
        stage = store.get("programStages", ref["id"]) or {}
        if req.stage is None or ref["id"] == req.stage:
            items[ref["id"]] = {"name": str(stage.get("name") or ref["id"])}
    for uid in [*req.units, *sorted(units_seen)]:
        unit = store.get("organisationUnits", uid) or {}
        items[uid] = {"name": str(unit.get("name") or uid)}
    for period in req.periods:
        items[period.id] = {"name": period.name}
    for rel in req.relative:
        items[rel] = {"name": rel.replace("_", " ").capitalize()}
    dimensions: dict[str, list[str]] = {
        "pe": [p.id for p in req.periods],
        "ou": list(req.units),
    }
    for item in req.items:
        items[item.key] = {"name": item.name}
        items[item.uid] = {"name": item.name}
        options = _options(store, item)
        for uid, name in options:
            items[uid] = {"name": name}
        dimensions[item.key if with_stage else item.uid] = [uid for uid, _ in options]
    return {"items": items, "dimensions": dimensions}


def _options(store: MetadataStore, item: Item) -> list[tuple[str, str]]:
    if not item.option_set:
        return []
    option_set = store.get("optionSets", item.option_set) or {}
    found = []
    for ref in option_set.get("options") or []:
        option = store.get("options", ref.get("id", "")) or {}
        found.append((str(ref.get("id")), str(option.get("name") or ref.get("id"))))
    return found
