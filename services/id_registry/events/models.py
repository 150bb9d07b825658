"""The outbox of lifecycle events waiting to be published through the mediator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

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


class OutboxEventPublic(SQLModel):
    id: int
    eventType: str
    payload: dict[str, Any]
    createdAt: datetime
    publishedAt: datetime | None
    remoteId: str | None
    attempts: int
    lastError: str | None


def public(row: OutboxEvent) -> OutboxEventPublic:
    assert row.id is not None
    return OutboxEventPublic(
        id=row.id,
        eventType=row.event_type,
        payload=row.payload,
        createdAt=row.created_at,
        publishedAt=row.published_at,
        remoteId=row.remote_id,
        attempts=row.attempts,
        lastError=row.last_error,
    )
