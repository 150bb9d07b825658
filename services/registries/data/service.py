"""The Data API's operations on one registry: validate, key, version, and publish on create."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.kernel.errors import BadRequest, Conflict, Forbidden, NotFound, ValidationFailed
from services.kernel.time import iso_micros_z, utcnow
from services.registries.catalog.models import Registry
from services.registries.catalog.service import next_key
from services.registries.data import content as q
from services.registries.data.models import Record, RecordVersion
from services.registries.data.reads import find
from services.registries.data.validation import validate
from services.registries.events.service import enqueue

NO_RECORD = "no record found"

# Key generation, versions and uniqueness checks read then write: one writer at a time per
# process (the lock) and per registry among replicas (its row locked: `_fresh`).
_write_lock = threading.Lock()


def get_record(session: Session, *, registry: Registry, key: str) -> Record:
    record = session.exec(
        select(Record).where(Record.registry_id == registry.id, Record.key == key)
    ).first()
    if record is None:
        raise NotFound(NO_RECORD)
    return record


def _writable(registry: Registry) -> None:
    if registry.view is not None:
        raise Forbidden(
            f"{registry.name} {registry.version} is read-only here; the master facility list "
            "changes through the facility admin API (/admin/facilities)."
        )


def create(session: Session, *, registry: Registry, content: dict[str, Any], actor: str) -> Record:
    _writable(registry)
    with _write_lock:
        record = _create(session, registry=_fresh(session, registry), content=content, actor=actor)
        session.commit()
    return record


def _fresh(session: Session, registry: Registry) -> Registry:
    """End the request's read snapshot (SQLite WAL keeps one), so the writer sees the latest,
    and hold the registry's row until the commit (another replica's writer waits)."""
    session.rollback()
    return _locked(session, registry)


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
            "registeredAt": iso_micros_z(now),
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
    _writable(registry)
    with _write_lock:
        _fresh(session, registry)
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
    _writable(registry)
    with _write_lock:
        locked = _fresh(session, registry)
        found = find(session, registry=registry, query=query) if query else []
        if len(found) > 1:
            raise Conflict(f"the query matches {len(found)} records; updateOrCreate changes one.")
        if found:
            record = _apply(session, registry=registry, record=found[0], write=write, actor=actor)
        else:
            record = _create(session, registry=locked, content=write, actor=actor)
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
    _writable(registry)
    with _write_lock:
        _fresh(session, registry)
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
