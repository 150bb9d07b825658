"""Tracker objects as DHIS2 2.41+ renders them."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.tracker.meta import TrackerMeta

Obj = dict[str, Any]


def tracked_entity(row: Obj, meta: TrackerMeta) -> Obj:
    attributes = []
    for item in row["attributes"]:
        info = meta.attribute(item["attribute"])
        attributes.append(
            {
                "attribute": item["attribute"],
                "displayName": info.name if info else "",
                "createdAt": row["created"],
                "updatedAt": row["updated"],
                "valueType": info.value_type if info else "TEXT",
                "value": item["value"],
            }
        )
    return {
        "trackedEntity": row["uid"],
        "trackedEntityType": row["tracked_entity_type"],
        "createdAt": row["created"],
        "createdAtClient": row["created"],
        "updatedAt": row["updated"],
        "updatedAtClient": row["updated"],
        "orgUnit": row["org_unit"],
        "inactive": bool(row["inactive"]),
        "deleted": False,
        "potentialDuplicate": False,
        "attributes": attributes,
        "relationships": [],
        "programOwners": [],
    }


def enrollment(row: Obj) -> Obj:
    return {
        "enrollment": row["uid"],
        "createdAt": row["created"],
        "createdAtClient": row["created"],
        "updatedAt": row["updated"],
        "updatedAtClient": row["updated"],
        "trackedEntity": row["te"],
        "program": row["program"],
        "status": row["status"],
        "orgUnit": row["org_unit"],
        "enrolledAt": row["enrolled_at"],
        "occurredAt": row["occurred_at"],
        "completedAt": row["completed_at"],
        "followUp": False,
        "deleted": False,
        "attributes": [],
        "relationships": [],
        "notes": [],
    }


def event(row: Obj) -> Obj:
    body: Obj = {
        "event": row["uid"],
        "status": row["status"],
        "program": row["program"],
        "programStage": row["program_stage"],
        "enrollment": row["enrollment"],
        "trackedEntity": row["te"],
        "orgUnit": row["org_unit"],
        "occurredAt": row["occurred_at"],
        "createdAt": row["created"],
        "createdAtClient": row["created"],
        "updatedAt": row["updated"],
        "updatedAtClient": row["updated"],
        "followUp": False,
        "deleted": False,
        "attributeOptionCombo": "HllvX50cXC0",
        "attributeCategoryOptions": "xYerKDKCefk",
        "dataValues": [
            {
                "dataElement": v["dataElement"],
                "value": v["value"],
                "createdAt": v.get("createdAt", row["created"]),
                "updatedAt": v.get("updatedAt", row["updated"]),
                "providedElsewhere": False,
            }
            for v in row["data_values"]
        ],
        "relationships": [],
        "notes": [],
    }
    if row.get("scheduled_at"):
        body["scheduledAt"] = row["scheduled_at"]
    return body


def select_fields(obj: Obj, fields: str | None, default_excluded: tuple[str, ...]) -> Obj:
    """A light `fields=` for tracker reads: top-level names, `*`, and `!name` exclusions."""
    if not fields:
        return {k: v for k, v in obj.items() if k not in default_excluded}
    names = [f.strip() for f in _top_level(fields) if f.strip()]
    keep: set[str] = set()
    drop = {n[1:] for n in names if n.startswith("!")}
    for name in names:
        if name in ("*", ":all"):
            keep |= set(obj)
        elif not name.startswith("!"):
            keep.add(name.split("[", 1)[0])
    return {k: v for k, v in obj.items() if k in keep and k not in drop}


def _top_level(fields: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in fields:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts
