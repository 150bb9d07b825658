"""Tracker objects as DHIS2 2.41+ renders them."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.errors import not_implemented
from services.sectoral_platform.metadata.fields import FieldNode, parse_fields
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
        **_times(row),
        "orgUnit": row["org_unit"],
        "inactive": bool(row["inactive"]),
        "deleted": False,
        "potentialDuplicate": bool(row.get("potential_duplicate")),
        **_geometry(row),
        "attributes": attributes,
        "relationships": [],
        "programOwners": [],
    }


def enrollment(row: Obj) -> Obj:
    return {
        "enrollment": row["uid"],
        **_times(row),
        "trackedEntity": row["te"],
        "program": row["program"],
        "status": row["status"],
        "orgUnit": row["org_unit"],
        "enrolledAt": row["enrolled_at"],
        "occurredAt": row["occurred_at"],
        "completedAt": row["completed_at"],
        "followUp": bool(row.get("follow_up")),
        **_geometry(row),
        "deleted": False,
        "attributes": [],
        "relationships": [],
        "notes": row.get("notes") or [],
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
        **_times(row),
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
                "providedElsewhere": bool(v.get("providedElsewhere")),
            }
            for v in row["data_values"]
        ],
        "relationships": [],
        "notes": row.get("notes") or [],
    }
    if row.get("scheduled_at"):
        body["scheduledAt"] = row["scheduled_at"]
    if row.get("completed_at"):
        body["completedAt"] = row["completed_at"]
    body.update(_geometry(row))
    if row.get("assigned_user"):
        body["assignedUser"] = row["assigned_user"]
    return body


def _geometry(row: Obj) -> Obj:
    """DHIS2 leaves an absent geometry out."""
    return {"geometry": row["geometry"]} if row.get("geometry") else {}


def _times(row: Obj) -> Obj:
    """Server and client timestamps; a client's own when it gave them, else the server's."""
    return {
        "createdAt": row["created"],
        "createdAtClient": row.get("created_at_client") or row["created"],
        "updatedAt": row["updated"],
        "updatedAtClient": row.get("updated_at_client") or row["updated"],
    }


def select_fields(obj: Obj, fields: str | None, default_excluded: tuple[str, ...]) -> Obj:
    """`fields=` of tracker reads with the metadata parser: names, `*`/`:all`, `!name` and
    nesting (`attributes[attribute,value]`); transformers are refused."""
    if not fields:
        return {k: v for k, v in obj.items() if k not in default_excluded}
    return _select(obj, parse_fields(fields))


def _select(obj: Obj, nodes: list[FieldNode]) -> Obj:
    kept: Obj = {}
    for node in nodes:
        if node.transformers:
            raise not_implemented(f"Field transformer on `{node.name}` is not implemented here")
        if node.exclude:
            continue
        if node.name in ("*", ":all"):
            kept.update({k: v for k, v in obj.items() if k not in kept})
        elif node.name in obj:
            kept[node.name] = _shape(obj[node.name], node.children)
    for node in nodes:
        if node.exclude:
            kept.pop(node.name, None)
    return kept


def _shape(value: Any, children: list[FieldNode] | None) -> Any:
    if not children:
        return value
    if isinstance(value, list):
        return [_select(v, children) if isinstance(v, dict) else v for v in value]
    return _select(value, children) if isinstance(value, dict) else value
