"""Webhooks: CRUD, signed at-least-once delivery, retries while the receiver is down."""

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from sqlmodel import select

from services.consent.webhooks.models import WebhookDelivery
from services.consent.webhooks.service import deliver_due
from services.kernel.runtime import kernel_state
from tests.conftest import SHARED_POSTGRES
from tests.consent.conftest import ORG

pytestmark = pytest.mark.anyio
SECRET = "webhook-secret-123"


class Receiver:
    """A receiver that can be down, recording what it accepted."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            return httpx.Response(503)
        self.received.append(request)
        return httpx.Response(200)


async def test_webhook_crud_and_bad_input(consent):
    body: dict[str, dict[str, Any]] = {
        "webhook": {"payloadUrl": "http://127.0.0.1:9/hook", "secretKey": SECRET}
    }
    created = await consent.client.post("/config/webhook/", json=body, headers=ORG)
    assert created.status_code == 200
    webhook = created.json()["webhook"]
    assert webhook["disabled"] is False and "consent.disallowed" in webhook["subscribedEvents"]
    body["webhook"]["disabled"] = True
    updated = await consent.client.put(f"/config/webhook/{webhook['id']}/", json=body, headers=ORG)
    assert updated.json()["webhook"]["disabled"] is True
    listed = await consent.client.get("/config/webhooks/", headers=ORG)
    assert [w["id"] for w in listed.json()["webhooks"]] == [webhook["id"]]
    for bad in (
        {"webhook": {"payloadUrl": "ftp://x", "secretKey": SECRET}},
        {"webhook": {"payloadUrl": "http://x", "secretKey": "short"}},
        {"webhook": {"payloadUrl": "http://x", "secretKey": SECRET, "subscribedEvents": ["x"]}},
    ):
        response = await consent.client.post("/config/webhook/", json=bad, headers=ORG)
        assert response.status_code == 400, bad
    deleted = await consent.client.delete(f"/config/webhook/{webhook['id']}/", headers=ORG)
    assert deleted.status_code == 200
    gone = await consent.client.get(f"/config/webhook/{webhook['id']}/", headers=ORG)
    assert gone.status_code == 404
    events = await consent.client.get("/v1/webhook-events", headers=ORG)
    assert {e["name"] for e in events.json()["webhookEvents"]} >= {"consent.allowed"}


async def test_events_wait_for_the_receiver_and_are_signed(consent):
    await consent.client.post(
        "/config/webhook/",
        json={"webhook": {"payloadUrl": "http://receiver.test/hook", "secretKey": SECRET}},
        headers=ORG,
    )
    await consent.individual("tok-hook")
    record_id = (await consent.consent("tok-hook"))["consentRecord"]["id"]
    await consent.update("tok-hook", record_id, optIn=False)

    receiver = Receiver()
    transport = httpx.MockTransport(receiver.handler)
    database = kernel_state(consent.app).database
    with database.session() as session:
        assert await deliver_due(session, max_attempts=5, transport=transport) == 0
    with database.session() as session:
        pending = session.exec(select(WebhookDelivery)).all()
        assert len(pending) == 2
        assert all(d.delivered_at is None and d.attempts == 1 for d in pending)
        for delivery in pending:  # make the retry due now instead of waiting for the backoff
            delivery.next_attempt_at = delivery.created_at
            session.add(delivery)
        session.commit()

    receiver.up = True
    with database.session() as session:
        assert await deliver_due(session, max_attempts=5, transport=transport) == 2
    events = [json.loads(r.content) for r in receiver.received]
    assert [e["type"] for e in events] == ["consent.allowed", "consent.disallowed"]
    assert all(e["data"]["consentRecordId"] == record_id for e in events)
    for request in receiver.received:
        expected = hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
        assert request.headers["X-ConsentBB-Signature"] == f"sha256={expected}"
    with database.session() as session:
        assert await deliver_due(session, max_attempts=5, transport=transport) == 0
    assert len(receiver.received) == 2


@SHARED_POSTGRES
async def test_two_replicas_deliver_each_event_once(consent):
    await consent.client.post(
        "/config/webhook/",
        json={"webhook": {"payloadUrl": "http://replicas.test/hook", "secretKey": SECRET}},
        headers=ORG,
    )
    for n in range(4):
        await consent.individual(f"tok-replica-{n}")
        record_id = (await consent.consent(f"tok-replica-{n}"))["consentRecord"]["id"]
        await consent.update(f"tok-replica-{n}", record_id, optIn=False)
    seen: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # both replicas' rounds overlap
        if request.url.host == "replicas.test":
            seen.append(request.headers["X-ConsentBB-Delivery"])
        return httpx.Response(200)

    transport = httpx.MockTransport(slow)
    database = kernel_state(consent.app).database

    async def replica() -> int:
        with database.session() as session:
            return await deliver_due(session, max_attempts=5, transport=transport)

    await asyncio.gather(replica(), replica())
    assert len(seen) == 8 and len(set(seen)) == 8
