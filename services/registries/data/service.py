"""The Data API's operations on one registry: validate, key, version, and publish on create."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed
from services.registries.catalog import schema as schemas
from services.registries.catalog.models import Registry
from services.registries.catalog.service import next_key
from services.registries.clock import iso, utcnow
from services.registries.data import query as q
from services.registries.data.models import Record, RecordVersion
from services.registries.data.validation import validate
from services.registries.events.service import enqueue

NO_RECORD = "no record found"

# Key generation and uniqueness checks read then write: one writer at a time per process.
_write_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Page:
    count: int
    records: list[Record]
    has_next: bool


def search(
    session: Session,
    *,
    registry: Registry,
    search: str | None,
    filter_field: str | None,
    ordering: str | None,
    page: int,
    page_size: int,
    equals: dict[str, str],
) -> Page:
    """`GET /data/{name}/{version}`: `search` (in `filter`), `query.<field>`, order, page."""
    for path in [*equals, *([filter_field] if filter_field else [])]:
        if not schemas.has_path(registry.json_schema, path):
            raise BadRequest(f"{path!r} is not a field of registry {registry.name}.")
    descending, order_field = _ordering(registry, ordering)
    stmt = select(Record).where(Record.registry_id == registry.id)
    pattern = q.search_pattern(search) if search else None
    if search and not filter_field and pattern is None:
        stmt = stmt.where(col(Record.search_text).contains(search.lower(), autoescape=True))
    order = col(Record.id).desc() if descending else col(Record.id)
    python_side = bool(equals or filter_field or order_field or pattern)
    if not python_side:
        count = session.exec(select(func.count()).select_from(stmt.subquery())).one()
        rows = session.exec(
            stmt.order_by(order).offset((page - 1) * page_size).limit(page_size)
        ).all()
        return Page(count, list(rows), page * page_size < count)
    matched = [
        r
        for r in session.exec(stmt.order_by(order)).all()
        if _keep(r, search, pattern, filter_field, equals)
    ]
    if order_field:
        matched.sort(
            key=lambda r: q.order_key(schemas.get_path(r.content, order_field)), reverse=descending
        )
    start = (page - 1) * page_size
    return Page(len(matched), matched[start : start + page_size], start + page_size < len(matched))


def _keep(
    record: Record,
    search: str | None,
    pattern: re.Pattern[str] | None,
    filter_field: str | None,
    equals: dict[str, str],
) -> bool:
    if not all(q.field_equals(record.content, p, v) for p, v in equals.items()):
        return False
    value = (
        record.content if filter_field is None else schemas.get_path(record.content, filter_field)
    )
    if value is None:
        return False
    if pattern is not None:
        return q.matches_pattern(value, pattern)
    if search and filter_field is not None:
        return q.contains_text(value, search)
    return True


def _ordering(registry: Registry, ordering: str | None) -> tuple[bool, str | None]:
    if ordering is None or ordering.lower() in ("", "asc", "ascending"):
        return False, None
    if ordering.lower() in ("desc", "descending"):
        return True, None
    field = ordering.removeprefix("-")
    if not schemas.has_path(registry.json_schema, field):
        raise BadRequest(
            f"ordering must be ascending, descending or a field (-field for descending); "
            f"{field!r} is not a field of registry {registry.name}."
        )
    return ordering.startswith("-"), field


def find(session: Session, *, registry: Registry, query: dict[str, Any]) -> list[Record]:
    """Records whose content holds everything in `query`, oldest first."""
    stmt = select(Record).where(Record.registry_id == registry.id).order_by(col(Record.id))
    key = query.get(registry.primary_key)
    if isinstance(key, str):
        stmt = stmt.where(Record.key == key)
    return [r for r in session.exec(stmt).all() if q.matches(r.content, query)]


def get_record(session: Session, *, registry: Registry, key: str) -> Record:
    record = session.exec(
        select(Record).where(Record.registry_id == registry.id, Record.key == key)
    ).first()
    if record is None:
        raise NotFound(NO_RECORD)
    return record


def create(session: Session, *, registry: Registry, content: dict[str, Any], actor: str) -> Record:
    with _write_lock:
        _fresh(session)
        record = _create(session, registry=_locked(session, registry), content=content, actor=actor)
        session.commit()
    return record


def _fresh(session: Session) -> None:
    """End the request's read snapshot (SQLite WAL keeps one), so the writer sees the latest."""
    session.rollback()


def _locked(session: Session, registry: Registry) -> Registry:
    locked = session.exec(
        select(Registry)
        .where(Registry.id == registry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return locked


def _create(session: Session, *, registry: Registry, content: dict[str, Any], actor: str) -> Record:
    pk = registry.primary_key
    if content.get(pk) in (None, ""):
        content = {pk: next_key(session, registry=registry), **content}
    key = content[pk]
    if not isinstance(key, str):
        raise ValidationFailed(
            f"{pk}: the primary key must be a string.",
            errors=[{"field": pk, "rule": "type", "message": "must be a string"}],
        )
    if session.exec(
        select(Record.id).where(Record.registry_id == registry.id, Record.key == key)
    ).first():
        raise Conflict(
            f"a record with {pk} {key!r} already exists in {registry.name} {registry.version}."
        )
    validate(session, registry=registry, content=content, own_key=None)
    now = utcnow()
    version = 1 + _last_version(session, registry=registry, key=key)
    record = Record(
        registry_id=registry.id or 0,
        key=key,
        content=content,
        search_text=q.search_text(content),
        version=version,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.add(
        RecordVersion(
            registry_id=registry.id or 0,
            key=key,
            version=version,
            action="create",
            actor=actor,
            at=now,
            content=content,
            changes=q.diff({}, content),
        )
    )
    if registry.event_on_create:
        payload = {
            "civilRegistrationId": key,
            "registry": registry.name,
            "registryVersion": registry.version,
            "registeredAt": iso(now),
            **{k: v for k, v in content.items() if k != pk},
        }
        enqueue(
            session,
            event_type=registry.event_on_create,
            source_key=f"{registry.name}/{registry.version}/{key}/{version}",
            payload=payload,
        )
    return record


def _last_version(session: Session, *, registry: Registry, key: str) -> int:
    last = session.exec(
        select(func.max(RecordVersion.version)).where(
            RecordVersion.registry_id == registry.id, RecordVersion.key == key
        )
    ).one()
    return int(last or 0)


def update(
    session: Session,
    *,
    registry: Registry,
    query: dict[str, Any],
    write: dict[str, Any],
    actor: str,
    many: bool,
) -> list[Record]:
    """`update` (exactly one match) or `updateEntries` (every match); all or nothing."""
    with _write_lock:
        _fresh(session)
        found = find(session, registry=registry, query=query)
        if not found:
            raise NotFound(NO_RECORD)
        if len(found) > 1 and not many:
            raise Conflict(
                f"the query matches {len(found)} records; update changes exactly one "
                "(use updateEntries for several)."
            )
        changed = [
            _apply(session, registry=registry, record=r, write=write, actor=actor) for r in found
        ]
        session.commit()
    return changed


def update_or_create(
    session: Session,
    *,
    registry: Registry,
    query: dict[str, Any] | None,
    write: dict[str, Any],
    actor: str,
) -> Record:
    with _write_lock:
        _fresh(session)
        found = find(session, registry=registry, query=query) if query else []
        if len(found) > 1:
            raise Conflict(f"the query matches {len(found)} records; updateOrCreate changes one.")
        if found:
            record = _apply(session, registry=registry, record=found[0], write=write, actor=actor)
        else:
            record = _create(
                session, registry=_locked(session, registry), content=write, actor=actor
            )
        session.commit()
    return record


def _apply(
    session: Session, *, registry: Registry, record: Record, write: dict[str, Any], actor: str
) -> Record:
    pk = registry.primary_key
    if pk in write and write[pk] != record.key:
        raise BadRequest(f"{pk} is the primary key and cannot be changed ({record.key!r}).")
    merged = q.deep_merge(record.content, write)
    validate(session, registry=registry, content=merged, own_key=record.key)
    changes = q.diff(record.content, merged)
    if not changes:
        return record
    now = utcnow()
    record.content = merged
    record.search_text = q.search_text(merged)
    record.version = 1 + _last_version(session, registry=registry, key=record.key)
    record.updated_at = now
    session.add(record)
    session.add(
        RecordVersion(
            registry_id=registry.id or 0,
            key=record.key,
            version=record.version,
            action="update",
            actor=actor,
            at=now,
            content=merged,
            changes=changes,
        )
    )
    return record


def delete(session: Session, *, registry: Registry, key: str, actor: str) -> None:
    with _write_lock:
        _fresh(session)
        record = get_record(session, registry=registry, key=key)
        version = 1 + _last_version(session, registry=registry, key=key)
        session.add(
            RecordVersion(
                registry_id=registry.id or 0,
                key=key,
                version=version,
                action="delete",
                actor=actor,
                at=utcnow(),
                content=None,
                changes=q.diff(record.content, {}),
            )
        )
        session.delete(record)
        session.commit()


def history(session: Session, *, registry: Registry, key: str) -> list[RecordVersion]:
    rows = session.exec(
        select(RecordVersion)
        .where(RecordVersion.registry_id == registry.id, RecordVersion.key == key)
        .order_by(col(RecordVersion.version))
    ).all()
    if not rows:
        raise NotFound(NO_RECORD)
    return list(rows)
