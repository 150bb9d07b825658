"""Aware UTC datetimes everywhere (SQLModel stores them as UTC), rendered with an explicit `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A datetime as aware UTC; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime) -> str:
    """`2026-01-01T10:00:00.123456Z`: microseconds always present, so comparisons are exact."""
    return as_utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")
