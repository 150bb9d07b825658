"""The outbox of lifecycle events waiting to be published through the mediator, and the civil
registration events the mediator pushes to the inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_snake
from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.id_registry.base import Base

BIRTH, DEATH = "birth-registered", "death-registered"  # pushed to the inbox
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


class Child(BaseModel):
    model_config = ConfigDict(extra="ignore")

    givenName: str = Field(min_length=1, max_length=120)
    familyName: str = Field(min_length=1, max_length=120)
    sex: Literal["female", "male", "other", "unknown"]
    dateOfBirth: date


class Birth(BaseModel):
    model_config = ConfigDict(extra="ignore")

    civilRegistrationId: str = Field(min_length=1, max_length=80)
    child: Child


class Death(BaseModel):
    model_config = ConfigDict(extra="ignore")

    civilRegistrationId: str = Field(min_length=1, max_length=80)
    birthRegistrationId: str | None = Field(default=None, max_length=80)
    dateOfDeath: date | None = None


class EventItem(BaseModel):
    """GovStack IM's delivered event: the payload is under `event`."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    eventType: str
    event: dict[str, Any]
