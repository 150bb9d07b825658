"""The profile's references between directory resources: as search parameters, and followed by
`_include` (from the matches) and `_revinclude` (to the matches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest
from services.registries.facilities import directory_fhir, fhir
from services.registries.facilities.directory import ENTRY_TYPES, DirectoryEntry
from services.registries.facilities.models import Place

PLACE_TYPES = ("Location", "Organization")
RESOURCE_TYPES = (*PLACE_TYPES, *ENTRY_TYPES)
Row = Place | DirectoryEntry

# (resource type, search parameter) -> (the column holding the referenced id, target type)
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("Location", "partof"): ("parent_id", "Location"),
    ("Location", "organization"): ("id", "Organization"),
    ("Organization", "partof"): ("parent_id", "Organization"),
    ("HealthcareService", "organization"): ("organization_id", "Organization"),
    ("HealthcareService", "location"): ("location_id", "Location"),
    ("PractitionerRole", "practitioner"): ("practitioner_id", "Practitioner"),
    ("PractitionerRole", "organization"): ("organization_id", "Organization"),
    ("PractitionerRole", "location"): ("location_id", "Location"),
    ("PractitionerRole", "service"): ("service_id", "HealthcareService"),
    ("Endpoint", "organization"): ("organization_id", "Organization"),
    ("OrganizationAffiliation", "primary-organization"): ("organization_id", "Organization"),
    ("OrganizationAffiliation", "participating-organization"): ("participant_id", "Organization"),
    ("OrganizationAffiliation", "location"): ("location_id", "Location"),
}
MAX_INCLUDED = 5000


def model_of(resource_type: str) -> type[Place] | type[DirectoryEntry]:
    return Place if resource_type in PLACE_TYPES else DirectoryEntry


def column(resource_type: str, name: str) -> Any:
    model = model_of(resource_type)
    return col(getattr(model, name))


def render(resource_type: str, row: Row) -> dict[str, Any]:
    if isinstance(row, Place):
        return fhir.render(resource_type, row)
    return directory_fhir.render(row)


def reference_ids(target: str, name: str, value: str) -> list[str]:
    """`Type/id` or `id`, comma-separated; a reference to another type is a 400 naming `name`."""
    ids = []
    for item in value.split(","):
        kind, sep, ident = item.rpartition("/")
        if sep and kind.rsplit("/", 1)[-1] != target:
            raise BadRequest(f"{name} must reference a {target}, got {item!r}.")
        if not ident:
            raise BadRequest(f"{name}: {item!r} is not a reference.")
        ids.append(ident)
    return ids


def parse_link(name: str, value: str, searched: str) -> tuple[str, str]:
    """`_include=<searched>:<param>[:<target>]` or `_revinclude=<source>:<param>[:<searched>]`."""
    parts = value.split(":")
    if len(parts) not in (2, 3) or (parts[0], parts[1]) not in REFERENCES:
        known = sorted(f"{s}:{p}" for s, p in REFERENCES)
        raise BadRequest(f"{name}={value!r} is not supported; supported: {', '.join(known)}.")
    source, param = parts[0], parts[1]
    target = REFERENCES[(source, param)][1]
    if len(parts) == 3 and parts[2] != target:
        raise BadRequest(f"{name}={value!r}: {source}:{param} references {target} only.")
    if name == "_include" and source != searched:
        raise BadRequest(f"_include={value!r} must start with the searched type {searched}.")
    if name == "_revinclude" and target != searched:
        raise BadRequest(f"_revinclude={value!r} does not reference the searched type {searched}.")
    return source, param


def _fetch(session: Session, resource_type: str, name: str, ids: Sequence[str]) -> list[Row]:
    if not ids:
        return []
    model = model_of(resource_type)
    stmt = select(model).where(col(getattr(model, name)).in_(sorted(set(ids))))
    if model is DirectoryEntry:
        stmt = stmt.where(col(DirectoryEntry.resource_type) == resource_type)
    rows: list[Row] = [*session.exec(stmt.order_by(col(model.id)).limit(MAX_INCLUDED + 1))]
    if len(rows) > MAX_INCLUDED:
        raise BadRequest(f"more than {MAX_INCLUDED} resources to include; use a smaller _count.")
    return rows


def included(
    session: Session,
    searched: str,
    rows: list[Row],
    includes: list[tuple[str, str]],
    revincludes: list[tuple[str, str]],
) -> list[tuple[str, Row]]:
    """The resources `_include` and `_revinclude` add to a page, each once."""
    found: dict[tuple[str, str], Row] = {}
    for source, param in includes:
        name, target = REFERENCES[(source, param)]
        ids = [getattr(row, name) for row in rows if getattr(row, name)]
        for row in _fetch(session, target, "id", ids):
            found.setdefault((target, row.id), row)
    ids = [row.id for row in rows]
    for source, param in revincludes:
        name, _ = REFERENCES[(source, param)]
        for row in _fetch(session, source, name, ids):
            found.setdefault((source, row.id), row)
    matched = {(searched, row.id) for row in rows}
    return [(kind, row) for (kind, ident), row in found.items() if (kind, ident) not in matched]
