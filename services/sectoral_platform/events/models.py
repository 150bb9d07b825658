"""The outbox: events written with the change that caused them, published later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.sectoral_platform.base import Base


class OutboxEvent(Base, table=True):
    """Published in id order; stays until the mediator has acknowledged it (at-least-once)."""

    __tablename__ = "event_outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created: str = Field(max_length=32)
    attempts: int = 0
    published_id: str | None = Field(default=None, max_length=64, index=True)
    published: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=255)
