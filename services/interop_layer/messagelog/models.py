"""Message log tables: records (hash-chained, signed), the chain's head and purge anchor, keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, Sequence, Text
from sqlmodel import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base
from services.interop_layer.messagelog.bodies import stored_fields
from services.interop_layer.messagelog.chain import LEGACY_REPLICA
from services.kernel.time import iso_offset, utcnow


class LogRecord(Base, table=True):
    """One exchange (or one pub/sub delivery). Never updated once written."""

    __tablename__ = "im_log_record"
    # added to an older log by `migrate.py`, so the kernel's start-up check does not refuse it
    __table_args__ = ({"info": {"migrated": ("replica", "position")}},)

    # The order of all chains' records, for reading (on SQLite the rowid itself, INTEGER PRIMARY
    # KEY: no separate key index to keep up; on PostgreSQL reserved from `im_log_record_seq`, so
    # two replicas never take the same number).
    seq: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
        )
    )
    # The chain: the replica that wrote the record and its position there (both hashed); none
    # for records written before chains were per replica (the `main` chain, position = seq).
    replica: str | None = Field(default=None, max_length=100)
    position: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Two secondary indexes, for the lookups of one exchange and one trace; each costs every
    # insert (a random trace id a page of its own). The filters by client, service and time
    # read in `seq` order and stop at their page; `migrate.py` drops their former indexes.
    x_road_id: str = Field(index=True, max_length=100)
    request_id: str = Field(max_length=40)
    trace_id: str | None = Field(default=None, index=True, max_length=32)
    kind: str = Field(default="exchange", max_length=20)
    client: str | None = Field(default=None, max_length=200)
    service: str | None = Field(default=None, max_length=300)
    method: str = Field(max_length=10)
    path: str = Field(sa_column=Column(Text, nullable=False))
    query: str = Field(default="", sa_column=Column(Text, nullable=False))
    status_code: int
    outcome: str = Field(max_length=30)
    started_at: datetime
    duration_us: int = 0
    upstream_us: int | None = None
    request_hash: str | None = Field(default=None, max_length=100)
    subject_hash: str | None = Field(default=None, max_length=64)
    purpose: str | None = Field(default=None, max_length=200)
    decision_id: str | None = Field(default=None, max_length=100)
    consent_record_id: str | None = Field(default=None, max_length=100)
    error_type: str | None = Field(default=None, max_length=100)
    request_body: str | None = Field(default=None, sa_column=Column(Text))
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    request_fields: list[str] | None = Field(default=None, sa_column=Column(JSON))
    response_fields: list[str] | None = Field(default=None, sa_column=Column(JSON))
    key_id: str = Field(max_length=32)
    prev_hash: str = Field(max_length=64)
    record_hash: str = Field(max_length=64)
    signature: str = Field(max_length=200)


# Reserved by PostgreSQL writers (standalone: `create_all` adds it to an existing database).
RECORD_SEQUENCE = Sequence("im_log_record_seq", metadata=Base.metadata)


class LogMark(Base, table=True):
    """Per chain, `head`: the last record written; `anchor`: the last record purged (carried
    forward). Named `head`/`anchor` for the `main` chain, `head:<replica>` for the others."""

    __tablename__ = "im_log_mark"

    name: str = Field(primary_key=True, max_length=120)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))  # the position in the chain
    record_hash: str = Field(max_length=64)
    key_id: str = Field(max_length=32)
    signature: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class LogKey(Base, table=True):
    """Public keys that signed records; the private key stays in the data directory."""

    __tablename__ = "im_log_key"

    key_id: str = Field(primary_key=True, max_length=32)
    public_key: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LogRecordPublic(CamelModel):
    seq: int
    replica: str
    position: int
    x_road_id: str
    request_id: str
    trace_id: str | None
    kind: str
    client: str | None
    service: str | None
    method: str
    path: str
    query: str
    status_code: int
    outcome: str
    started_at: str
    duration_ms: float
    upstream_ms: float | None
    request_hash: str | None
    subject_hash: str | None
    purpose: str | None
    decision_id: str | None
    consent_record_id: str | None
    error_type: str | None
    request_fields: list[str] | None
    response_fields: list[str] | None
    request_body: str | None = None
    response_body: str | None = None
    record_hash: str


class ChainReport(CamelModel):
    """Where one replica's chain stands: its signed head and purge anchor, what was proved."""

    replica: str
    checked: int = 0
    head_position: int | None = None
    anchor_position: int | None = None
    verified_position: int | None = None  # the last record proved (the verifier's own anchor)
    verified_hash: str | None = None


class VerifyReport(CamelModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_replica: str | None = None
    first_bad_position: int | None = None
    first_bad_x_road_id: str | None = None
    reason: str | None = None
    # the chain of the replica asked about (the `main` chain by default)
    head_seq: int | None = None
    anchor_seq: int | None = None
    verified_seq: int | None = None
    verified_hash: str | None = None
    chains: list[ChainReport] = Field(default_factory=list)


class PurgeReport(CamelModel):
    purged: int
    anchor_seq: int | None
    remaining: int


def _fields(logged: list[str] | None, body: str | None) -> list[str] | None:
    return logged if logged is not None else stored_fields(body)


def public_record(record: LogRecord, *, bodies: bool = False) -> dict[str, Any]:
    data = LogRecordPublic(
        seq=record.seq,
        replica=record.replica or LEGACY_REPLICA,
        position=record.seq if record.position is None else record.position,
        x_road_id=record.x_road_id,
        request_id=record.request_id,
        trace_id=record.trace_id,
        kind=record.kind,
        client=record.client,
        service=record.service,
        method=record.method,
        path=record.path,
        query=record.query,
        status_code=record.status_code,
        outcome=record.outcome,
        started_at=iso_offset(record.started_at) or "",
        duration_ms=record.duration_us / 1000,
        upstream_ms=None if record.upstream_us is None else record.upstream_us / 1000,
        request_hash=record.request_hash,
        subject_hash=record.subject_hash,
        purpose=record.purpose,
        decision_id=record.decision_id,
        consent_record_id=record.consent_record_id,
        error_type=record.error_type,
        request_fields=_fields(record.request_fields, record.request_body),
        response_fields=_fields(record.response_fields, record.response_body),
        request_body=record.request_body if bodies else None,
        response_body=record.response_body if bodies else None,
        record_hash=record.record_hash,
    )
    return data.model_dump(by_alias=True, exclude_none=not bodies)
