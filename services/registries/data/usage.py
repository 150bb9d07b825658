"""Who read whose data, and why: written on every read, answered by `myPersonalDataUsage`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session, col, select

from services.kernel.time import iso_micros_z
from services.kernel.topology import load_topology
from services.registries.catalog.models import Registry
from services.registries.catalog.schema import get_path
from services.registries.data.models import DataAccess
from services.registries.data.reads import Keyed
from services.registries.deps import Caller


def pairs(records: Iterable[Keyed]) -> list[tuple[str, dict[str, Any] | None]]:
    return [(r.key, r.content) for r in records]


def record_reads(
    session: Session,
    *,
    registry: Registry,
    records: Iterable[tuple[str, dict[str, Any] | None]],
    caller: Caller,
    operation: str,
) -> None:
    """One log entry per person whose data the caller just received (`(key, content)` pairs)."""
    by_person: dict[str, list[str]] = {}
    for key, content in records:
        for path in registry.person_paths:
            value = get_path(content or {}, path)
            if isinstance(value, str) and value:
                refs = by_person.setdefault(value, [])
                if key not in refs:
                    refs.append(key)
    for person, refs in by_person.items():
        session.add(
            DataAccess(
                registry_id=registry.id or 0,
                person_id=person,
                operation=operation,
                reader_id=caller.user_id or caller.client,
                reader_client=caller.client,
                purpose=caller.purpose,
                references=refs,
            )
        )
    if by_person:
        session.commit()


def usage(
    session: Session, *, user_id: str, registries: Sequence[Registry]
) -> list[dict[str, Any]]:
    """The upstream `PersonalDataUsage` items for a person, newest first."""
    by_id = {r.id: r for r in registries}
    rows = session.exec(
        select(DataAccess)
        .where(DataAccess.person_id == user_id, col(DataAccess.registry_id).in_(list(by_id)))
        .order_by(col(DataAccess.at).desc(), col(DataAccess.id))
    ).all()
    titles = load_topology().subsystems()
    return [_public(row, by_id[row.registry_id], titles) for row in rows]


def _public(row: DataAccess, registry: Registry, titles: dict[str, str]) -> dict[str, Any]:
    member = "/".join(row.reader_client.split("/")[:3])
    title = titles.get(row.reader_client)
    initials = _initials(row.reader_id) if row.reader_id != row.reader_client else None
    item: dict[str, Any] = {
        "id": row.id,
        "readerId": row.reader_id,
        "readerInstitutionId": member,
        "readerInstitutionName": title or member,
        "readerApplicationName": row.reader_client,
        "searchDateTime": iso_micros_z(row.at),
        "refrences": [{"ReferenceID": ref} for ref in row.references],
        "purpose": row.purpose,
        "operation": row.operation,
        "database": {"id": registry.id, "name": registry.name, "version": registry.version},
    }
    if initials:  # a string in the spec: left out for a reader known only by a code
        item["readerInitials"] = initials
    return item


def _initials(reader: str) -> str | None:
    """Initials of a reader known by name (`X-Road-UserId: XD Mary Jane`), not of a bare code."""
    parts = reader.replace(".", " ").split()
    if len(parts) < 2:
        return None
    return "".join(part[0] for part in parts if part[0].isalpha()).upper() or None
