"""Data access of the IDA hot path: prepared Core statements on one connection, no ORM.

Every authentication runs these, so they are compiled once and bound per call; the ORM's unit
of work would cost several times the SQL itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.id_registry.deps import psut
from services.id_registry.ida.models import AuthAudit, OtpMessage
from services.id_registry.identities.models import Identity, PartnerToken
from services.id_registry.vids.models import ACTIVE, EXPIRED, USED, Vid


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


IDENTITY, VID, OTP = _table(Identity), _table(Vid), _table(OtpMessage)
AUDIT, TOKEN = _table(AuthAudit), _table(PartnerToken)

_IDENTITY_BY_UIN = select(IDENTITY).where(IDENTITY.c.uin == bindparam("p_uin"))
_IDENTITY_BY_ID = select(IDENTITY).where(IDENTITY.c.id == bindparam("p_id"))
_VID_BY_VALUE = select(VID).where(VID.c.vid == bindparam("p_vid"))
_LATEST_OTP = (
    select(OTP)
    .where(
        OTP.c.identity_id == bindparam("p_identity"),
        OTP.c.partner_id == bindparam("p_partner"),
        OTP.c.used_at.is_(None),
    )
    .order_by(OTP.c.id.desc())
    .limit(1)
)
_SPEND_OTP = (
    update(OTP)
    .where(OTP.c.id == bindparam("p_id"), OTP.c.used_at.is_(None))
    .values(used_at=bindparam("p_now"))
)
_SPEND_VID = (
    update(VID)
    .where(VID.c.id == bindparam("p_id"), VID.c.transactions_used < VID.c.transactions_allowed)
    .values(transactions_used=VID.c.transactions_used + 1)
)
_TOKEN_KNOWN = select(TOKEN.c.id).where(TOKEN.c.token == bindparam("p_token"))
_INSERT_TOKEN = insert(TOKEN)
_INSERT_OTP = insert(OTP)


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
        if self.status == ACTIVE and self.expires_at is not None and now >= self.expires_at:
            return EXPIRED
        if (
            self.status == ACTIVE
            and self.transactions_allowed is not None
            and self.transactions_used >= self.transactions_allowed
        ):
            return USED
        return self.status


@dataclass(frozen=True, slots=True)
class OtpRow:
    id: int
    transaction_id: str
    otp: str
    expires_at: datetime


def _person(row: Any) -> Person | None:
    if row is None:
        return None
    m = row._mapping
    return Person(**{name: m[name] for name in Person.__slots__})


class PersonCache:
    """Identities by UIN and by id, emptied whenever an identity changes in this process.

    A generation counter keeps a read that raced with a change from caching the old row.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.generation = 0
        self._by_uin: dict[str, Person] = {}
        self._by_id: dict[int, Person] = {}

    def invalidate(self) -> None:
        self.generation += 1
        self._by_uin = {}
        self._by_id = {}

    def _keep(self, person: Person | None, generation: int) -> Person | None:
        if person is not None and generation == self.generation:
            if len(self._by_id) >= self.limit:
                self.invalidate()
            self._by_uin[person.uin] = person
            self._by_id[person.id] = person
        return person

    def by_uin(self, conn: Connection, uin: str) -> Person | None:
        found = self._by_uin.get(uin)
        if found is not None:
            return found
        generation = self.generation
        return self._keep(
            _person(conn.execute(_IDENTITY_BY_UIN, {"p_uin": uin}).first()), generation
        )

    def by_id(self, conn: Connection, identity_id: int) -> Person | None:
        found = self._by_id.get(identity_id)
        if found is not None:
            return found
        generation = self.generation
        row = conn.execute(_IDENTITY_BY_ID, {"p_id": identity_id}).first()
        return self._keep(_person(row), generation)


def vid_by_value(conn: Connection, value: str) -> VidRow | None:
    row = conn.execute(_VID_BY_VALUE, {"p_vid": value}).first()
    if row is None:
        return None
    m = row._mapping
    return VidRow(**{name: m[name] for name in VidRow.__slots__})


def spend_vid(conn: Connection, vid: VidRow) -> bool:
    """One transaction of a limited VID; False when a concurrent request spent the last one."""
    if vid.transactions_allowed is None:
        return True
    return bool(conn.execute(_SPEND_VID, {"p_id": vid.id}).rowcount)


def latest_otp(conn: Connection, *, identity_id: int, partner_id: str) -> OtpRow | None:
    row = conn.execute(_LATEST_OTP, {"p_identity": identity_id, "p_partner": partner_id}).first()
    if row is None:
        return None
    m = row._mapping
    return OtpRow(**{name: m[name] for name in OtpRow.__slots__})


def spend_otp(conn: Connection, otp_id: int, now: datetime) -> bool:
    """Mark an OTP used; False if a concurrent request used it first (single use)."""
    return bool(conn.execute(_SPEND_OTP, {"p_id": otp_id, "p_now": now}).rowcount)


def add_otp(conn: Connection, **values: Any) -> None:
    conn.execute(_INSERT_OTP, values)


class DriverInsert:
    """An INSERT compiled once per dialect and run on the driver's cursor, with the column types'
    own bind processing; for the audit row every IDA call writes, where SQLAlchemy's per-statement
    bookkeeping costs several times the SQLite insert itself."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        columns = [column.name for column in table.columns if not column.primary_key]
        compiled = (
            insert(table)
            .values({name: bindparam(name) for name in columns})
            .compile(dialect=dialect)
        )
        self.sql = str(compiled)
        self.order: list[str] | None = list(compiled.positiontup or []) or None
        self.processors = {
            name: table.c[name].type._cached_bind_processor(dialect) for name in columns
        }

    def __call__(self, conn: Connection, values: dict[str, Any]) -> None:
        params = {
            name: (process(value) if (process := self.processors[name]) else value)
            for name, value in values.items()
        }
        if not conn.in_transaction():
            conn.begin()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.order is None:
                cursor.execute(self.sql, params)
            else:
                cursor.execute(self.sql, [params[name] for name in self.order])
        finally:
            cursor.close()


_audit_inserts: dict[str, DriverInsert] = {}


def audit(conn: Connection, **values: Any) -> None:
    dialect = conn.dialect
    insert_row = _audit_inserts.get(dialect.name)
    if insert_row is None:
        insert_row = _audit_inserts[dialect.name] = DriverInsert(AUDIT, dialect)
    insert_row(conn, values)


def issue_token(
    conn: Connection,
    *,
    secret: bytes,
    person: Person,
    partner_id: str,
    now: datetime,
    recorded: set[str],
) -> str:
    """The person's PSUT for the partner, recorded once so token exchange can resolve it."""
    token = psut(secret, uin=person.uin, partner_id=partner_id)
    if token in recorded:
        return token
    if conn.execute(_TOKEN_KNOWN, {"p_token": token}).first() is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    _INSERT_TOKEN,
                    {
                        "identity_id": person.id,
                        "partner_id": partner_id,
                        "token": token,
                        "issued_at": now,
                    },
                )
        except IntegrityError:
            pass  # a concurrent request recorded it first
    return token
