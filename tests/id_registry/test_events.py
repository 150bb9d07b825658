"""Lifecycle events: outbox in the same transaction, drained through a (fake) mediator."""

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.credentials import client_key
from services.kernel.http import make_client
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, auth, demo_of, envelope, people

pytestmark = pytest.mark.anyio
ROOM = "/r1/DPI/GOV/NIA/id-registry"
NEWBORN = {
    "givenName": "Ada",
    "familyName": "Okafor",
    "dateOfBirth": "2026-02-27",
    "gender": "female",
    "civilRegistrationId": "BR-2026-000123",
}


class FakeMediator:
    """The pub/sub part of the mediator: event types per room, 201 with an id on publish."""

    def __init__(self) -> None:
        self.mode = "up"
        self.types: set[str] = set()
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.app = FastAPI()

        @self.app.post(ROOM + "/api/v1/eventType")
        async def create_type(request: Request) -> JSONResponse:
            self.types.add((await request.json())["eventType"])
            return JSONResponse({}, status_code=200)

        @self.app.post(ROOM + "/pub/v1/{event_type}")
        async def publish(event_type: str, request: Request) -> JSONResponse:
            if self.mode == "failing":
                return JSONResponse({"type": "Server.ServerProxy"}, status_code=503)
            if event_type not in self.types:
                return JSONResponse({"message": "Unknown event type"}, status_code=404)
            self.received.append((event_type, await request.json(), dict(request.headers)))
            return JSONResponse({"id": f"evt-{len(self.received)}"}, status_code=201)

    def client(self) -> httpx.AsyncClient:
        if self.mode == "unreachable":

            def refuse(request: httpx.Request) -> Any:
                raise httpx.ConnectError("connection refused", request=request)

            return make_client("http://mediator", transport=httpx.MockTransport(refuse))
        return make_client("http://mediator", transport=httpx.ASGITransport(app=self.app))


async def outbox(client, pending=True) -> Any:
    response = await client.get("/v1/events/outbox", params={"pending": pending}, headers=ADMIN)
    return response.json()


async def test_enrolment_event_carries_per_sector_tokens_never_the_uin(make_app):
    mediator = FakeMediator()
    async with serve_in_process(make_app(publisher=mediator.client)) as client:
        created = await client.post("/v1/identities", json=NEWBORN, headers=ADMIN)
        assert created.status_code == 201
        uin = created.json()["UIN"]
        [event] = await outbox(client)
        assert event["eventType"] == "identity-created"
        payload = event["payload"]
        assert payload["civilRegistrationId"] == "BR-2026-000123"
        assert set(payload["perSubscriber"]) == {
            "moh-hmis",
            "moe-emis",
            "msp-spmis",
            "dpa-consent",
            "crvs-registries",
        }
        assert uin not in str(payload)
        person = {"UIN": uin, "identity": created.json()["identity"]}
        login = await auth(client, envelope(uin, demographics=demo_of(person)), partner="moe-emis")
        assert payload["perSubscriber"]["moe-emis"]["token"] == login["response"]["authToken"]


async def test_nothing_is_lost_while_the_mediator_is_down(make_app):
    mediator = FakeMediator()
    async with serve_in_process(make_app(publisher=mediator.client)) as client:
        app = client._transport.app  # type: ignore[attr-defined]
        drainer = runtime_of(app, IdRegistryRuntime).drainer
        person = (await people(client))[0]
        await client.post("/v1/identities", json=NEWBORN, headers=ADMIN)
        await client.post(
            f"/v1/identities/{person['UIN']}/deactivate", json={"reason": "death"}, headers=ADMIN
        )
        for mode in ("unreachable", "failing"):
            mediator.mode = mode
            assert await drainer.drain_once() == 0
        pending = await outbox(client)
        assert [e["eventType"] for e in pending] == ["identity-created", "identity-deactivated"]
        assert pending[0]["attempts"] == 2 and "503" in pending[0]["lastError"]
        assert pending[1]["attempts"] == 0  # order kept: nothing overtakes a failed event
        mediator.mode = "up"
        drained = await client.post("/v1/events/outbox/drain", headers=ADMIN)
        assert drained.json() == {"published": 2}
        assert await outbox(client) == []
        assert [name for name, _, _ in mediator.received] == [
            "identity-created",
            "identity-deactivated",
        ]
        _, deactivated, headers = mediator.received[1]
        assert deactivated["reason"] == "death" and person["UIN"] not in str(deactivated)
        assert headers["x-road-client"] == "DPI/GOV/NIA/id-registry"
        assert headers["x-dpi-client-key"] == client_key("DPI/GOV/NIA/id-registry")
        published = await outbox(client, pending=False)
        assert [e["remoteId"] for e in published] == ["evt-1", "evt-2"]
        assert await drainer.drain_once() == 0  # published once, not again


async def test_background_drainer_is_woken_by_a_new_event(make_app):
    mediator = FakeMediator()
    app = make_app(publisher=mediator.client, run_drainer=True, drain_interval_seconds=30)
    async with serve_in_process(app) as client:
        person = (await people(client))[0]
        await client.post(f"/v1/identities/{person['UIN']}/deactivate", headers=ADMIN)
        deadline = time.monotonic() + 5
        while not mediator.received and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert [name for name, _, _ in mediator.received] == ["identity-deactivated"]


async def test_seeded_population_emits_no_events(client):
    assert await outbox(client) == []
