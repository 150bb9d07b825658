"""Pub/sub tables: event types per room, events, subscriptions and per-subscriber deliveries.

Deliveries are created in the same transaction as the event they carry (an outbox), so an
acknowledged publication is never lost and survives restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Column, Integer, UniqueConstraint
from sqlmodel import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base
from services.kernel.time import utcnow

PENDING, DELIVERED, ACKED, DEAD, EXPIRED, CANCELLED = (
    "pending",
    "delivered",
    "acked",
    "dead",
    "expired",
    "cancelled",
)


class EventType(Base, table=True):
    __tablename__ = "im_event_type"
    __table_args__ = (UniqueConstraint("room", "event_type"),)

    id: str = Field(primary_key=True, max_length=40)
    room: str = Field(index=True, max_length=200)
    event_type: str = Field(max_length=100)
    schema_: dict[str, Any] = Field(default_factory=dict, sa_column=Column("schema", JSON))
    created_at: datetime = Field(default_factory=utcnow)


class EventTypeCreate(CamelModel):
    event_type: str = PydanticField(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
    schema_: dict[str, Any] = PydanticField(alias="schema")


class Event(Base, table=True):
    __tablename__ = "im_event"

    sequence: int | None = Field(
        default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True)
    )
    id: str = Field(unique=True, max_length=40)
    room: str = Field(index=True, max_length=200)
    event_type: str = Field(max_length=100)
    publisher: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    x_road_id: str = Field(max_length=100)
    trace_id: str | None = Field(default=None, max_length=32)
    cancelled: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class SubscriptionOptions(CamelModel):
    TTL: int = PydanticField(default=3600, ge=1)
    FIFO: bool = False


class SubscriptionCreate(CamelModel):
    """GovStack `SubscriptionItem`; `pushUrl` / `pushPath` are the sandbox's webhook target."""

    event_type: str | None = None
    subscriber_id: dict[str, Any] | None = None  # the caller's own, if given (`rooms`)
    delivery: Literal["PUSH", "PULL"] = "PUSH"
    options: SubscriptionOptions = PydanticField(default_factory=SubscriptionOptions)
    push_url: str | None = PydanticField(default=None, pattern=r"^https?://")
    push_path: str | None = PydanticField(default=None, pattern=r"^/")


class Subscription(Base, table=True):
    __tablename__ = "im_subscription"
    __table_args__ = (UniqueConstraint("room", "event_type", "subscriber"),)

    id: str = Field(primary_key=True, max_length=40)
    room: str = Field(index=True, max_length=200)
    event_type: str = Field(max_length=100)
    subscriber: str = Field(index=True, max_length=200)
    delivery: str = Field(default="PUSH", max_length=10)
    ttl: int = 3600
    fifo: bool = False
    push_url: str | None = Field(default=None, max_length=500)
    push_path: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(Base, table=True):
    __tablename__ = "im_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "event_seq"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    subscription_id: str = Field(index=True, max_length=40)
    event_seq: int = Field(index=True)
    event_id: str = Field(index=True, max_length=40)
    state: str = Field(default=PENDING, index=True, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    live_from: datetime = Field(default_factory=utcnow)  # TTL counts from here
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class DeliveryPublic(CamelModel):
    id: int
    subscription_id: str
    event_id: str
    event_sequence: int
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    done_at: datetime | None
