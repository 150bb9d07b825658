"""Aware UTC datetimes and the wire formats each service emits them in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

import orjson


def utcnow() -> datetime:
    """Aware UTC: SQLModel's datetime columns store and return aware UTC on every backend."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def naive_utc(value: datetime | None = None) -> datetime:
    """Zone-less UTC (now by default), as DHIS2 keeps its server-local timestamps."""
    return as_utc(value or utcnow()).replace(tzinfo=None)


@overload
def iso_millis_z(value: datetime) -> str: ...
@overload
def iso_millis_z(value: None) -> None: ...
def iso_millis_z(value: datetime | None) -> str | None:
    """GovStack Consent and MOSIP: `2026-01-01T10:00:00.123Z`."""
    return None if value is None else naive_utc(value).isoformat(timespec="milliseconds") + "Z"


def iso_micros_z(value: datetime) -> str:
    """GovStack Registries and FHIR mCSD: `2026-01-01T10:00:00.123456Z`, always microseconds."""
    return naive_utc(value).isoformat(timespec="microseconds") + "Z"


def iso_z(value: datetime) -> str:
    """MOSIP IDA records: `2026-01-01T10:00:00Z`, microseconds only when non-zero."""
    return naive_utc(value).isoformat() + "Z"


@overload
def iso_offset(value: datetime) -> str: ...
@overload
def iso_offset(value: None) -> None: ...
def iso_offset(value: datetime | None) -> str | None:
    """The mediator's API: `2026-01-01T10:00:00+00:00`, microseconds only when non-zero."""
    return None if value is None else as_utc(value).isoformat()


def dhis2_timestamp(value: datetime | None = None) -> str:
    """DHIS2's zone-less timestamp (now by default): `2019-08-19T00:00:00.000`."""
    return naive_utc(value).isoformat(timespec="milliseconds")


def sqlite_datetime(value: datetime) -> str:
    """SQLAlchemy's `UTCDateTime` as stored on SQLite: `2026-01-02 03:04:05.678901` (UTC)."""
    return utc_micros(value, " ")


def utc_micros(value: datetime, sep: str = "T") -> str:
    """Aware or naive UTC as zone-less text, always with microseconds: `2026-01-02T03:04:05.678901`
    (`sep` between date and time), as `naive_utc(value).isoformat(sep, "microseconds")` writes
    it. Taken from orjson's formatter where it writes the same digits (UTC, microseconds not
    zero): `isoformat` cost three times as much on the mediator's log path (twice a record)."""
    if value.microsecond and value.tzinfo is UTC:
        text = orjson.dumps(value)[1:27].decode()  # "2026-01-02T03:04:05.678901+00:00" cut
        return text if sep == "T" else text.replace("T", sep, 1)
    return naive_utc(value).isoformat(sep, "microseconds")
