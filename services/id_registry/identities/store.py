"""Set-based reads and writes of batch enrolment: lookups of many keys in one query, inserts of
many rows in one statement (multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING` on both
PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Column, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from services.id_registry.events.models import OutboxEvent
from services.id_registry.identities.models import Identity, PartnerToken
from services.id_registry.partners.models import PARTNER_ACTIVE, Partner

# bound parameters per lookup: far below PostgreSQL's 65,535 and SQLite's 32,766
CHUNK = 1000
IDENTITY: Table = Identity.__table__  # type: ignore[attr-defined]
TOKEN: Table = PartnerToken.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxEvent.__table__  # type: ignore[attr-defined]
PARTNER: Table = Partner.__table__  # type: ignore[attr-defined]


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _uins_where(session: Session, column: Column[Any], values: Collection[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(values):
        query = select(column, IDENTITY.c.uin).where(column.in_(chunk))
        for value, uin in session.execute(query):
            found.setdefault(value, uin)
    return found


def uins_by_key(session: Session, keys: Collection[str]) -> dict[str, str]:
    """The UIN stored under each of `keys` that the registry holds already."""
    return _uins_where(session, IDENTITY.c.dedupe_key, keys)


def uins_by_civil_id(session: Session, civil_ids: Collection[str]) -> dict[str, str]:
    """A UIN enrolled with each of `civil_ids` that the registry holds already."""
    return _uins_where(session, IDENTITY.c.civil_registration_id, civil_ids)


def taken_uins(session: Session, uins: Collection[str]) -> set[str]:
    """Those of `uins` issued already."""
    return set(_uins_where(session, IDENTITY.c.uin, uins))


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


def insert_identities(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert `rows` but those whose dedupe key or UIN is stored already (committed by a
    concurrent transaction, whose end PostgreSQL waits for); the id of each one inserted, by its
    dedupe key."""
    statement = _insert(session, IDENTITY).returning(IDENTITY.c.dedupe_key, IDENTITY.c.id)
    return {key: row_id for key, row_id in session.execute(statement, list(rows))}


def insert_tokens(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Partner tokens of people enrolled in this transaction (new UINs: new tokens)."""
    if rows:
        session.execute(_insert(session, TOKEN), list(rows))


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(OUTBOX), list(rows))


def active_partners(session: Session) -> list[str]:
    query = select(PARTNER.c.partner_id).where(PARTNER.c.status == PARTNER_ACTIVE)
    return list(session.execute(query).scalars())
