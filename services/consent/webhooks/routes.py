"""Webhook paths (`/config/webhook...`) and the sandbox's event-type listing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.consent.deps import OrgDep, Page
from services.consent.spec_route import SpecRoute
from services.consent.unimplemented import UnimplementedQuery
from services.consent.webhooks.models import EVENTS, WebhookEnvelope, WebhookEvent, WebhookPublic
from services.consent.webhooks.service import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhooks,
    update_webhook,
)
from services.kernel.db import SessionDep

router = APIRouter(tags=["config"], route_class=SpecRoute)
PageDep = Annotated[Page, Depends()]


class WebhookOnly(BaseModel):
    webhook: WebhookPublic


class WebhookList(BaseModel):
    webhooks: list[WebhookPublic]


class WebhookEvents(BaseModel):
    webhookEvents: list[WebhookEvent]


@router.post("/config/webhook/", response_model=WebhookOnly, operation_id="configWebhookCreate")
def post_webhook(body: WebhookEnvelope, session: SessionDep, _: OrgDep) -> WebhookOnly:
    return WebhookOnly(webhook=create_webhook(session, data=body.webhook).public())


@router.get(
    "/config/webhook/{webhookId}/", response_model=WebhookOnly, operation_id="configWebhookRead"
)
def read_webhook(
    webhookId: str,
    session: SessionDep,
    _: OrgDep,
    revisionId: UnimplementedQuery = None,  # webhooks keep no revisions here
) -> WebhookOnly:
    return WebhookOnly(webhook=get_webhook(session, webhook_id=webhookId).public())


@router.put(
    "/config/webhook/{webhookId}/", response_model=WebhookOnly, operation_id="configWebhookUpdate"
)
def put_webhook(
    webhookId: str, body: WebhookEnvelope, session: SessionDep, _: OrgDep
) -> WebhookOnly:
    return WebhookOnly(
        webhook=update_webhook(session, webhook_id=webhookId, data=body.webhook).public()
    )


@router.delete("/config/webhook/{webhookId}/", operation_id="configWebhookDelete")
def remove_webhook(webhookId: str, session: SessionDep, _: OrgDep) -> dict[str, str]:
    delete_webhook(session, webhook_id=webhookId)
    return {"id": webhookId}


@router.get("/config/webhooks/", response_model=WebhookList, operation_id="configWebhookList")
def all_webhooks(
    session: SessionDep,
    _: OrgDep,
    page: PageDep,
    revisionId: UnimplementedQuery = None,  # webhooks keep no revisions here
) -> WebhookList:
    found = list_webhooks(session, offset=page.offset, limit=page.limit)
    return WebhookList(webhooks=[w.public() for w in found])


@router.get("/v1/webhook-events", response_model=WebhookEvents, tags=["webhooks (sandbox)"])
def webhook_events(_: OrgDep) -> WebhookEvents:
    return WebhookEvents(webhookEvents=[WebhookEvent(id=name, name=name) for name in EVENTS])
