"""The outbox of lifecycle events waiting to be published through the mediator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_snake
from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.id_registry.base import Base

IDENTITY_CREATED = "identity-created"
IDENTITY_DEACTIVATED = "identity-deactivated"


class OutboxEvent(Base, table=True):
    __tablename__ = "event_outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
    published_at: datetime | None = Field(default=None, index=True)
    remote_id: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)


class OutboxEventPublic(BaseModel):
    """Read from an `OutboxEvent` row's attributes (`event_type` fills `eventType`)."""

    model_config = ConfigDict(
        from_attributes=True,
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=to_snake),
    )

    id: int
    eventType: str
    payload: dict[str, Any]
    createdAt: datetime
    publishedAt: datetime | None
    remoteId: str | None
    attempts: int
    lastError: str | None


def public(row: OutboxEvent) -> OutboxEventPublic:
    return OutboxEventPublic.model_validate(row, from_attributes=True)
