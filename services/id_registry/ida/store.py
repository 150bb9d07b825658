"""Data access of the IDA hot path: its statements, compiled once per dialect and run on the
DB-API connection (see `sql`), and the rows they read (the cache of identities: `people`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Dialect, String, Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects import sqlite

from services.id_registry.hashing import psut
from services.id_registry.ida.models import AuthAudit, OtpMessage
from services.id_registry.ida.sql import DbApi, Statement
from services.id_registry.identities.attributes import mosip_date, normalise
from services.id_registry.identities.models import Identity, PartnerToken
from services.id_registry.vids.models import Vid, effective_status


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


IDENTITY, VID, OTP = _table(Identity), _table(Vid), _table(OtpMessage)
AUDIT, TOKEN = _table(AuthAudit), _table(PartnerToken)


@dataclass(frozen=True, slots=True)
class Person:
    """An identity row as the hot path reads it (same attribute names as `Identity`)."""

    id: int
    uin: str
    given_name: str
    family_name: str
    date_of_birth: date
    gender: str
    address: str | None
    phone: str | None
    email: str | None
    language: str
    status: str
    blocked: bool
    # What every demographic match compares against, computed once per cached row.
    name_key: str = field(init=False)
    dob_text: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name_key", normalise(self.full_name))
        object.__setattr__(self, "dob_text", mosip_date(self.date_of_birth))

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


@dataclass(frozen=True, slots=True)
class VidRow:
    id: int
    identity_id: int
    status: str
    expires_at: datetime | None
    transactions_allowed: int | None
    transactions_used: int

    def effective_status(self, now: datetime) -> str:
        return effective_status(self, now)


@dataclass(frozen=True, slots=True)
class OtpRow:
    id: int
    transaction_id: str
    otp: str
    expires_at: datetime


def _columns(table: Table, row_type: Any) -> list[Any]:
    return [table.c[item.name] for item in fields(row_type) if item.init]


def _values(table: Table, names: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(name, type_=table.c[name].type) for name in names}


class Statements:
    """Every statement of the hot path, compiled for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        person, vid, otp = _columns(IDENTITY, Person), _columns(VID, VidRow), _columns(OTP, OtpRow)
        self.identity_by_uin = Statement(
            select(*person).where(IDENTITY.c.uin == bindparam("p_uin")), dialect
        )
        # PostgreSQL's group commit reads its batch's uncached people in one statement.
        postgresql = _postgresql_dialect() if dialect.name == "postgresql" else None
        self.identities_by_uin = (
            Statement(
                select(*person).where(
                    IDENTITY.c.uin == any_(bindparam("p_uins", type_=postgresql.ARRAY(String)))
                ),
                dialect,
            )
            if postgresql is not None
            else None
        )
        self.identity_by_id = Statement(
            select(*person).where(IDENTITY.c.id == bindparam("p_id")), dialect
        )
        self.vid_by_value = Statement(select(*vid).where(VID.c.vid == bindparam("p_vid")), dialect)
        latest_unused = (
            select(OTP.c.id)
            .where(
                OTP.c.identity_id == bindparam("p_identity"),
                OTP.c.partner_id == bindparam("p_partner"),
                OTP.c.used_at.is_(None),
            )
            .order_by(OTP.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        # Found and spent in one statement; the outer `used_at IS NULL` is what a concurrent
        # spender re-checks (PostgreSQL), so an OTP is never spent twice.
        self.spend_latest_otp = Statement(
            update(OTP)
            .where(OTP.c.id == latest_unused, OTP.c.used_at.is_(None))
            .values(used_at=bindparam("p_now", type_=OTP.c.used_at.type))
            .returning(*otp),
            dialect,
        )
        self.unspend_otp = Statement(
            update(OTP).where(OTP.c.id == bindparam("p_id")).values(used_at=None), dialect
        )
        self.spend_vid = Statement(
            update(VID)
            .where(
                VID.c.id == bindparam("p_id"),
                VID.c.transactions_used < VID.c.transactions_allowed,
            )
            .values(transactions_used=VID.c.transactions_used + 1),
            dialect,
        )
        token_columns = ("identity_id", "partner_id", "token", "issued_at")
        upsert = postgresql.insert if postgresql is not None else sqlite.insert
        # A concurrent request (or an earlier batch) may have recorded the same token.
        # `inline`: no RETURNING of the new id, which nobody reads.
        self.insert_token = Statement(
            upsert(TOKEN).values(_values(TOKEN, token_columns)).on_conflict_do_nothing().inline(),
            dialect,
        )
        payload = [c.name for c in OTP.columns if not c.primary_key]
        self.insert_otp = Statement(insert(OTP).values(_values(OTP, payload)).inline(), dialect)
        audited = [c.name for c in AUDIT.columns if not c.primary_key]
        self.insert_audit = Statement(
            insert(AUDIT).values(_values(AUDIT, audited)).inline(), dialect
        )
        # PostgreSQL's group commit copies its batch's audit rows (`insert_audit`'s parameters).
        self.audit_columns = audited
        self.copy_audit = f"COPY {AUDIT.name} ({', '.join(audited)}) FROM STDIN"
        self.write_deferred = (
            _write_deferred(dialect, audited, token_columns) if postgresql is not None else None
        )


def _rows_of(table: Table, names: Sequence[str], dialect: Dialect) -> str:
    """`jsonb_to_recordset(%s::jsonb) AS r(<name> <type>, ...)`: the table's rows, as JSON."""
    columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in names)
    return f"jsonb_to_recordset(%s::jsonb) AS r({columns})"


def _write_deferred(dialect: Dialect, audited: Sequence[str], tokens: Sequence[str]) -> str:
    """One statement for a batch's deferred inserts (two JSON arrays of `insert_audit`'s and
    `insert_token`'s parameters): one round trip, committed by itself in autocommit mode. Token
    records go in in token order, so two replicas' batches take their locks in one order."""
    audit, token = ", ".join(audited), ", ".join(tokens)
    return (
        f"WITH audit AS (INSERT INTO {AUDIT.name} ({audit}) SELECT {audit}"
        f" FROM {_rows_of(AUDIT, audited, dialect)})"
        f" INSERT INTO {TOKEN.name} ({token}) SELECT {token}"
        f" FROM {_rows_of(TOKEN, tokens, dialect)} ORDER BY token ON CONFLICT DO NOTHING"
    )


_compiled: dict[str, Statements] = {}


def statements(dialect: Dialect) -> Statements:
    found = _compiled.get(dialect.name)
    if found is None:
        found = _compiled[dialect.name] = Statements(dialect)
    return found


@dataclass(slots=True)
class Hot:
    """The connection an IDA transaction runs on and the statements compiled for it.

    With `defer`, inserts whose outcome nobody waits for (audit rows, token records) are handed
    to it (SQL, parameters) to be written with the rest of the commit group's in one
    `executemany` just before the commit, instead of one by one."""

    db: DbApi
    sql: Statements
    defer: Callable[[str, Any], None] | None = None
    # The batch's people read ahead (`PersonCache.prefetch`), None for a UIN not found.
    known: dict[str, Person | None] | None = None


def vid_by_value(hot: Hot, value: str) -> VidRow | None:
    row = hot.sql.vid_by_value.first(hot.db, {"p_vid": value})
    return None if row is None else VidRow(*row)


def spend_vid(hot: Hot, vid: VidRow) -> bool:
    """One transaction of a limited VID; False when a concurrent request spent the last one."""
    if vid.transactions_allowed is None:
        return True
    return bool(hot.sql.spend_vid.run(hot.db, {"p_id": vid.id}).rowcount)


def spend_latest_otp(
    hot: Hot, *, identity_id: int, partner_id: str, now: datetime
) -> OtpRow | None:
    """Mark the latest unused OTP of (person, partner) used and return it; None when there is
    none. The caller checks it and gives it back with `unspend_otp` if it does not match."""
    params = {"p_identity": identity_id, "p_partner": partner_id, "p_now": now}
    row = hot.sql.spend_latest_otp.first(hot.db, params)
    return None if row is None else OtpRow(*row)


def unspend_otp(hot: Hot, otp_id: int) -> None:
    hot.sql.unspend_otp.run(hot.db, {"p_id": otp_id})


def add_otp(hot: Hot, **values: Any) -> None:
    hot.sql.insert_otp.run(hot.db, values)


def _insert(hot: Hot, statement: Statement, values: dict[str, Any]) -> None:
    if hot.defer is None:
        statement.run(hot.db, values)
    else:
        hot.defer(statement.sql, statement.params(values))


def audit(hot: Hot, **values: Any) -> None:
    _insert(hot, hot.sql.insert_audit, values)


def issue_token(
    hot: Hot,
    *,
    secret: bytes,
    person: Person,
    partner_id: str,
    now: datetime,
    recorded: set[str],
) -> str:
    """The person's PSUT for the partner, recorded once so token exchange can resolve it.

    `recorded` holds tokens known to be committed; the caller adds new ones after its commit.
    """
    token = psut(secret, uin=person.uin, partner_id=partner_id)
    if token not in recorded:
        values = {"identity_id": person.id, "partner_id": partner_id, "token": token}
        _insert(hot, hot.sql.insert_token, {**values, "issued_at": now})
    return token


def _postgresql_dialect() -> Any:
    """Imported where used: a registry on SQLite does not load PostgreSQL's dialect at start."""
    from sqlalchemy.dialects import postgresql

    return postgresql
