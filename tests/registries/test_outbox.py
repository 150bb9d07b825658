"""The drainer publishes outbox events through a fake mediator: once each, none lost."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from services.kernel.credentials import client_key
from services.kernel.testing import serve_in_process
from services.registries.main import create_app
from services.registries.settings import RegistriesSettings
from tests.registries.civil_records import birth
from tests.registries.conftest import MakeSettings
from tests.registries.test_civil import ADMIN, CRVS

pytestmark = pytest.mark.anyio

MEMBER = "DPI/GOV/CRVS/registries"


def denied(kind: str) -> JSONResponse:
    """A mediator fault as PR-REST renders it (500, `X-Road-Error`)."""
    body = {"type": kind, "message": "refused", "detail": "x"}
    return JSONResponse(body, status_code=500, headers={"X-Road-Error": kind})


class FakeMediator:
    """GovStack IM pub/sub as the registries see it: event types, publish, credentials."""

    def __init__(self) -> None:
        self.down = False
        self.fail_with: int | None = None
        self.types: set[str] = set()
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()
        room = "/r1/{instance}/{cls}/{member}/{subsystem}"

        @self.app.post(room + "/api/v1/eventType")
        async def create_type(request: Request) -> JSONResponse:
            body = await request.json()
            if body["eventType"] in self.types:
                return JSONResponse({"message": "exists"}, status_code=409)
            self.types.add(body["eventType"])
            return JSONResponse({}, status_code=200)

        @self.app.post(room + "/pub/v1/{event_type}")
        async def publish(
            request: Request,
            instance: str,
            cls: str,
            member: str,
            subsystem: str,
            event_type: str,
            x_road_client: str = Header(),
            x_dpi_client_key: str = Header(),
        ) -> JSONResponse:
            if self.fail_with:
                return JSONResponse({"type": "Server.Error"}, status_code=self.fail_with)
            room_id = f"{instance}/{cls}/{member}/{subsystem}"
            if x_road_client != room_id or x_dpi_client_key != client_key(x_road_client):
                return denied("Server.ClientProxy.SslAuthenticationFailed")
            if event_type not in self.types:
                return JSONResponse({"message": "Unknown event type"}, status_code=404)
            self.published.append((event_type, await request.json()))
            return JSONResponse({"id": str(uuid.uuid4())}, status_code=201)

        self.transport = httpx.ASGITransport(app=self.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.transport.handle_async_request(request)


class Transport(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeMediator) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.fake.handle_async_request(request)


async def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await anyio.sleep(0.02)


def drained_settings(make_settings: MakeSettings, **overrides: Any) -> RegistriesSettings:
    return make_settings(
        outbox_enabled=True,
        outbox_interval=0.05,
        outbox_max_backoff=0.2,
        mediator_url="http://mediator",
        **overrides,
    )


async def register(client, registry: str, content: dict[str, Any]) -> str:
    response = await client.post(
        f"/data/{registry}/1.0/create", json={"write": {"content": content}}, headers=CRVS
    )
    assert response.status_code == 200, response.text
    key: str = response.json()["content"]["id"]
    return key


async def test_each_registration_reaches_the_mediator_once(make_settings):
    fake = FakeMediator()
    app = create_app(drained_settings(make_settings), mediator_transport=Transport(fake))
    async with serve_in_process(app) as client:
        first = await register(client, "births", birth())
        second = await register(client, "births", birth("Imani"))
        death = {
            "birthRegistrationId": first,
            "dateOfDeath": "2026-02-01",
            "deceased": {"givenName": "Amani", "familyName": "Okello"},
        }
        died = await register(client, "deaths", death)

        async def all_published() -> bool:
            box = (await client.get("/admin/outbox", headers=ADMIN)).json()
            return bool(box["pending"] == 0 and box["total"] == 3)

        await wait_for(all_published)
        box = (await client.get("/admin/outbox", headers=ADMIN)).json()
    assert sorted((t, p["civilRegistrationId"]) for t, p in fake.published) == [
        ("birth-registered", first),
        ("birth-registered", second),
        ("death-registered", died),
    ]
    assert fake.types == {"birth-registered", "death-registered"}
    assert all(e["mediatorEventId"] and e["publishedAt"] for e in box["events"])


async def test_nothing_is_lost_while_the_mediator_is_down(make_settings):
    fake = FakeMediator()
    fake.down = True
    app = create_app(drained_settings(make_settings), mediator_transport=Transport(fake))
    async with serve_in_process(app) as client:
        keys = [await register(client, "births", birth(name)) for name in ("A", "B", "C")]

        async def retried() -> bool:
            events = (await client.get("/admin/outbox", headers=ADMIN)).json()["events"]
            return bool(events[0]["attempts"] >= 2)

        await wait_for(retried)
        box = (await client.get("/admin/outbox", headers=ADMIN)).json()
        assert box["pending"] == 3 and "unreachable" in box["events"][0]["lastError"]
        assert fake.published == []
        fake.down = False
        fake.fail_with = 500

        async def failed_again() -> bool:
            events = (await client.get("/admin/outbox", headers=ADMIN)).json()["events"]
            return "500" in (events[0]["lastError"] or "")

        await wait_for(failed_again)
        fake.fail_with = None

        async def drained() -> bool:
            return bool((await client.get("/admin/outbox", headers=ADMIN)).json()["pending"] == 0)

        await wait_for(drained)
    assert [p["civilRegistrationId"] for _, p in fake.published] == keys


async def test_events_survive_a_restart(make_settings):
    fake = FakeMediator()
    settings = make_settings()
    async with serve_in_process(create_app(settings)) as client:
        key = await register(client, "births", birth())
        assert (await client.get("/admin/outbox", headers=ADMIN)).json()["pending"] == 1
    restarted = settings.model_copy(
        update={"outbox_enabled": True, "outbox_interval": 0.05, "mediator_url": "http://m"}
    )
    async with serve_in_process(
        create_app(restarted, mediator_transport=Transport(fake))
    ) as client:

        async def drained() -> bool:
            return bool((await client.get("/admin/outbox", headers=ADMIN)).json()["pending"] == 0)

        await wait_for(drained)
    assert [p["civilRegistrationId"] for _, p in fake.published] == [key]
