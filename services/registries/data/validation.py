"""Checks a record must pass before it is stored: its schema, its references, its unique fields."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from services.kernel.errors import Conflict, ValidationFailed
from services.kernel.national_ids import national_id_path
from services.registries.catalog import schema as schemas
from services.registries.catalog.models import Registry
from services.registries.catalog.service import get_registry
from services.registries.data import content as q
from services.registries.data.models import Record
from services.registries.facilities.models import Place


def validate(
    session: Session, *, registry: Registry, content: dict[str, Any], own_key: str | None
) -> None:
    national = national_id_path(content)
    if national is not None:  # whatever the schema admits: a sector never stores one
        raise ValidationFailed(
            f"{national}: nationalId (a national ID number, uin/vid, is never stored in a "
            "registry: use the person's token)",
            errors=[{"field": national, "rule": "nationalId", "message": "national ID number"}],
        )
    problems = schemas.violations(registry.json_schema, content)
    if problems:
        described = "; ".join(f"{p['field']}: {p['rule']} ({p['message']})" for p in problems[:5])
        raise ValidationFailed(
            f"content does not match the schema of {registry.name} {registry.version}: {described}",
            errors=problems,
        )
    _check_references(session, registry=registry, content=content)
    _check_uniques(session, registry=registry, content=content, own_key=own_key)


def _check_references(session: Session, *, registry: Registry, content: dict[str, Any]) -> None:
    for path, flag in schemas.keyword_paths(registry.json_schema, "facilityCode"):
        value = schemas.get_path(content, path)
        if flag and value is not None:
            place = session.get(Place, value)
            if place is None or place.level != "facility":
                raise ValidationFailed(
                    f"{path}: facilityCode ({value!r} is not in the master facility list)",
                    errors=[
                        {
                            "field": path,
                            "rule": "facilityCode",
                            "message": f"unknown facility {value!r}",
                        }
                    ],
                )
    for path, target in schemas.keyword_paths(registry.json_schema, "references"):
        value = schemas.get_path(content, path)
        if value is None or not isinstance(target, str) or "/" not in target:
            continue
        name, version = target.split("/", 1)
        other = get_registry(session, name=name, version=version)
        found = session.exec(
            select(Record.id).where(Record.registry_id == other.id, Record.key == value)
        ).first()
        if found is None:
            raise ValidationFailed(
                f"{path}: references ({value!r} is not a record of {target})",
                errors=[
                    {
                        "field": path,
                        "rule": "references",
                        "message": f"no record {value!r} in {target}",
                    }
                ],
            )


def _check_uniques(
    session: Session, *, registry: Registry, content: dict[str, Any], own_key: str | None
) -> None:
    for fields in registry.fields_uniques:
        values = [schemas.get_path(content, f) for f in fields]
        if all(v is None for v in values):
            continue
        for other in session.exec(select(Record).where(Record.registry_id == registry.id)).all():
            if (
                other.key != own_key
                and [schemas.get_path(other.content, f) for f in fields] == values
            ):
                raise Conflict(
                    f"{', '.join(fields)} must be unique: record {other.key} already has "
                    f"{', '.join(q.scalar_text(v) for v in values)}.",
                    errors=[
                        {"field": f, "rule": "unique", "message": "duplicate value"} for f in fields
                    ],
                )
