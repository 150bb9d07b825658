"""The outbox: events written with the change that caused them, published later by the drainer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.kernel.time import utcnow
from services.registries.base import Base


class OutboxEvent(Base, table=True):
    """One event to publish through the mediator's pub/sub; `source_key` makes it once only."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    source_key: str = Field(unique=True, max_length=300)
    event_type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = None
    published_at: datetime | None = Field(default=None, index=True)
    mediator_event_id: str | None = Field(default=None, max_length=100)
