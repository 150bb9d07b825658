"""Webhooks: third-party subscriptions to consent events, and their delivery outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import JSON
from sqlmodel import Field as Column
from sqlmodel import Text

from services.consent.base import Base

EVENTS = ("consent.allowed", "consent.disallowed", "consent.deleted")


class WebhookBase(BaseModel):
    """The spec's `Webhook` fields plus the event names it subscribes to."""

    payloadUrl: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    contentType: str = "application/json"
    disabled: bool = False
    secretKey: str = Field(min_length=8, max_length=200)
    subscribedEvents: list[str] = Field(default_factory=lambda: list(EVENTS))

    @field_validator("contentType")
    @classmethod
    def _json_only(cls, value: str) -> str:
        # the body sent is JSON; another content type (a form post) is not implemented
        if value.split(";")[0].strip().lower() != "application/json":
            raise ValueError("only application/json is implemented by this sandbox")
        return value


class WebhookCreate(WebhookBase):
    id: str | None = None


class WebhookPublic(WebhookBase):
    id: str


class WebhookEnvelope(BaseModel):
    webhook: WebhookCreate


class WebhookEvent(BaseModel):
    id: str
    name: str


class Webhook(Base, table=True):
    __tablename__ = "webhook"

    id: str = Column(primary_key=True)
    payload_url: str
    content_type: str
    disabled: bool = False
    secret_key: str
    subscribed_events: list[str] = Column(sa_type=JSON)
    created_at: datetime

    def public(self) -> WebhookPublic:
        return WebhookPublic(
            id=self.id,
            payloadUrl=self.payload_url,
            contentType=self.content_type,
            disabled=self.disabled,
            secretKey=self.secret_key,
            subscribedEvents=list(self.subscribed_events),
        )


class WebhookDelivery(Base, table=True):
    """Outbox: an event stays here until its webhook answers 2xx (at-least-once)."""

    __tablename__ = "webhook_delivery"

    id: str = Column(primary_key=True)
    webhook_id: str = Column(index=True)
    event_type: str
    individual_id: str | None = Column(default=None, index=True)
    body: str = Column(sa_type=Text)
    attempts: int = 0
    next_attempt_at: datetime = Column(index=True)
    delivered_at: datetime | None = Column(default=None, index=True)
    last_error: str | None = None
    created_at: datetime


def event_body(event_type: str, data: dict[str, Any], delivery_id: str, at: str) -> dict[str, Any]:
    return {"deliveryId": delivery_id, "type": event_type, "timestamp": at, "data": data}
