"""Create, modify, find and delete registries. Schema changes never strand existing records."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.kernel.errors import BadRequest, Conflict, NotFound
from services.kernel.time import iso_micros_z, utcnow
from services.registries.catalog import schema as schemas
from services.registries.catalog.models import Registry, RegistryCreate
from services.registries.data.models import Record

GENERIC_SERVICES = (
    "data-list",
    "data-create",
    "data-exists",
    "data-read",
    "data-update",
    "data-update-entries",
    "data-update-or-create",
    "data-delete",
    "data-read-value",
)


def save_registry(
    session: Session,
    *,
    body: RegistryCreate,
    actor: str,
    builtin: bool = False,
    event_on_create: str | None = None,
    view: str | None = None,
) -> Registry:
    """Create the registry version, or replace its schema if every record still conforms.
    A built-in registry's schema is checked by the tests, not at every start (50 ms)."""
    save = partial(
        _save, session, body=body, actor=actor, builtin=builtin,
        event_on_create=event_on_create, view=view,
    )  # fmt: skip
    try:
        return save()
    except IntegrityError:  # another replica created this name and version meanwhile: ours
        session.rollback()  # comes second, a change of its schema
        return save()


def _save(
    session: Session,
    *,
    body: RegistryCreate,
    actor: str,
    builtin: bool,
    event_on_create: str | None,
    view: str | None,
) -> Registry:
    if not builtin:
        schemas.check_schema(body.json_schema)
    name = body.name or body.code
    for unique in body.fields_uniques:
        for path in unique:
            if not schemas.has_path(body.json_schema, path):
                raise BadRequest(f"fields_uniques: {path!r} is not a field of the schema.")
    existing = session.exec(
        select(Registry).where(Registry.name == name, Registry.version == body.version)
    ).first()
    if existing is not None and existing.builtin and not builtin:
        raise Conflict(f"registry {name} {body.version} is built in and cannot be modified.")
    registry = existing or Registry(
        name=name, version=body.version, code=body.code, json_schema=body.json_schema
    )
    if existing is not None and existing.json_schema != body.json_schema:
        _check_records_conform(session, registry=existing, schema=body.json_schema)
    registry.code = body.code
    registry.description = body.description
    registry.institution = body.institution
    registry.group_name = body.group_name
    registry.catalog_name = body.catalog_name
    registry.json_schema = body.json_schema
    registry.primary_key = schemas.primary_key(body.json_schema)
    registry.person_paths = [
        p for p, v in schemas.keyword_paths(body.json_schema, "personalId") if v
    ]
    registry.fields_uniques = body.fields_uniques
    registry.builtin = builtin
    registry.event_on_create = event_on_create
    registry.view = view
    registry.modified_at = utcnow()
    registry.modified_by = actor
    session.add(registry)
    session.commit()
    session.refresh(registry)
    return registry


def _check_records_conform(session: Session, *, registry: Registry, schema: dict[str, Any]) -> None:
    rows = session.exec(select(Record).where(Record.registry_id == registry.id)).all()
    for row in rows:
        problems = schemas.violations(schema, row.content)
        if problems:
            first = problems[0]
            raise Conflict(
                f"record {row.key} would not conform to the new schema "
                f"({first['field']}: {first['rule']}); nothing changed.",
                errors=problems[:10],
            )


def get_registry(session: Session, *, name: str, version: str) -> Registry:
    registry = session.exec(
        select(Registry).where(Registry.name == name, Registry.version == version)
    ).first()
    if registry is None:
        known = session.exec(select(Registry.version).where(Registry.name == name)).all()
        if known:
            raise NotFound(
                f"registry {name!r} has no version {version!r}; versions: {', '.join(known)}."
            )
        raise NotFound(f"no registry named {name!r}.")
    return registry


def get_registry_by_id(session: Session, *, registry_id: int) -> Registry:
    registry = session.get(Registry, registry_id)
    if registry is None:
        raise NotFound(f"no database with id {registry_id}.")
    return registry


def registries_for_usage(session: Session, *, database_id: str) -> list[Registry]:
    """Registries a `databaseId` names: by code or by name, every version."""
    found = session.exec(
        select(Registry).where((Registry.code == database_id) | (Registry.name == database_id))
    ).all()
    return list(found)


def list_registries(session: Session) -> list[Registry]:
    return list(session.exec(select(Registry).order_by(Registry.id)).all())  # type: ignore[arg-type]


def delete_registry(session: Session, *, registry_id: int) -> None:
    """Delete an empty, non built-in registry (records are never dropped with their schema)."""
    registry = get_registry_by_id(session, registry_id=registry_id)
    if registry.builtin:
        raise Conflict(f"registry {registry.name} {registry.version} is built in.")
    count = session.exec(
        select(func.count()).select_from(Record).where(Record.registry_id == registry.id)
    ).one()
    if count:
        raise Conflict(
            f"registry {registry.name} {registry.version} still holds {count} records; "
            "delete them first."
        )
    session.delete(registry)
    session.commit()


def next_key(session: Session, *, registry: Registry) -> str:
    """The next generated record key (`{code}{indexNoByCode}`), unique within the registry."""
    registry.index_increment += 1
    session.add(registry)
    return f"{registry.code}{registry.index_increment}"


def database_info(registry: Registry) -> dict[str, Any]:
    """The upstream `DatabaseInfo` shape."""
    return {
        "id": registry.id,
        "version": registry.version,
        "name": registry.name,
        "code": registry.code,
        "description": registry.description,
        "institution": registry.institution,
        "number_format": "{code}{indexNoByCode}",
        "schema": registry.json_schema,
        "schema_tags": [],
        "schema_flags": [
            {"name": "primaryKey", "path": f"/{registry.primary_key}"},
            *(
                {"name": "personalId", "path": "/" + p.replace(".", "/")}
                for p in registry.person_paths
            ),
        ],
        "fields_uniques": registry.fields_uniques,
        "is_draft": False,
        "is_disabled": False,
        "is_archived": False,
        "modified_at": iso_micros_z(registry.modified_at),
        "by_user_name": registry.modified_by,
        "generic_services": [
            {"service_id": i + 1, "name": n, "is_visible": True}
            for i, n in enumerate(GENERIC_SERVICES)
        ],
        "data_index_increment": registry.index_increment,
        "has_logo": False,
        "builtin": registry.builtin,
        "event_on_create": registry.event_on_create,
        "read_only": registry.view is not None,
    }


def database_groups(registries: list[Registry]) -> list[dict[str, Any]]:
    """Registries grouped like the upstream `DatabasesSchema` (one entry per group)."""
    groups: dict[str, list[Registry]] = {}
    for registry in registries:
        groups.setdefault(registry.group_name or registry.catalog_name or "Default", []).append(
            registry
        )
    return [
        {
            "id": index + 1,
            "name": name,
            "code": members[0].catalog_name or name,
            "databases": [database_info(r) for r in members],
            "group_id": index + 1,
            "order": index + 1,
            "data_index_increment": sum(r.index_increment for r in members),
        }
        for index, (name, members) in enumerate(groups.items())
    ]
