"""Shared pydantic config: JSON in camelCase like the upstream APIs, Python in snake_case."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

CAMEL = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CamelModel(BaseModel):
    model_config = CAMEL


def utcnow() -> datetime:
    """Aware UTC: SQLModel's datetime columns store it on both databases and give it back."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()
