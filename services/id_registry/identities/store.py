"""Set-based reads and writes of batch enrolment: lookups of many keys in one query, inserts of
many rows in one statement (multi-row `INSERT ... ON CONFLICT DO NOTHING RETURNING` on both
PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Column, String, Table, TextClause, any_, bindparam, insert, select, text
from sqlalchemy.dialects import sqlite
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


ROW_COLUMNS = (
    "uin", "dedupe_key", "given_name", "family_name", "date_of_birth", "gender", "address",
    "phone", "email", "language", "civil_registration_id", "status", "blocked", "status_reason",
    "created_at", "updated_at",
)  # fmt: skip


@cache
def _unnest_insert() -> TextClause:
    """PostgreSQL: one array a column, so the statement and its parameters stay the same size
    whatever the batch's (a multi-row VALUES of 16,000 placeholders cost more to build and
    parse than to run). Built on first use: a registry on SQLite never imports the dialect."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"CAST(:{name} AS {IDENTITY.c[name].type.compile(dialect=dialect)}[])"
        for name in ROW_COLUMNS
    )
    return text(
        f"INSERT INTO identity ({', '.join(ROW_COLUMNS)}) SELECT * FROM unnest({arrays})"
        " ON CONFLICT DO NOTHING RETURNING dedupe_key, id"
    )


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _uins_where(session: Session, column: Column[Any], values: Collection[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(values):
        if _postgresql(session):  # one array parameter: no query text of 1,000 placeholders
            from sqlalchemy.dialects import postgresql

            match = column == any_(bindparam("values", chunk, type_=postgresql.ARRAY(String)))
        else:
            match = column.in_(chunk)
        query = select(column, IDENTITY.c.uin).where(match)
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
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table)


def insert_identities(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert `rows`, in their order, but those whose dedupe key or UIN is stored already
    (committed by a concurrent transaction, whose end PostgreSQL waits for); the id of each one
    inserted, by its dedupe key."""
    if _postgresql(session):
        columns = {name: [row[name] for row in rows] for name in ROW_COLUMNS}
        return {key: row_id for key, row_id in session.execute(_unnest_insert(), columns)}
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
