"""Civil registration events pushed by the mediator, and the subscription to them."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.credentials import client_key, mediator_key
from services.kernel.http import make_client
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, codes

pytestmark = pytest.mark.anyio
MEDIATOR = {"X-DPI-Mediator-Key": mediator_key()}
BIRTH = {
    "id": "evt-1",
    "sequence": 1,
    "publisherId": {
        "instanceId": "DPI",
        "memberClass": "GOV",
        "memberCode": "CRVS",
        "applicationCode": "registries",
    },
    "eventType": "birth-registered",
    "event": {
        "civilRegistrationId": "BR-2026-000777",
        "registry": "births",
        "registeredAt": "2026-03-01T08:00:00Z",
        "child": {
            "givenName": "Noor",
            "familyName": "Haddad",
            "sex": "female",
            "dateOfBirth": "2026-02-28",
            "placeOfBirth": "F-001",
        },
        "mother": {"givenName": "Sara", "familyName": "Haddad"},
    },
}


async def push(
    client: httpx.AsyncClient, item: dict[str, Any], headers: Any = MEDIATOR
) -> httpx.Response:
    return await client.post("/v1/events/inbox", json=item, headers=headers)


async def enrolled(client: httpx.AsyncClient, civil_id: str) -> list[dict[str, Any]]:
    everyone = (await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)).json()
    return [p for p in everyone if p["civilRegistrationId"] == civil_id]


async def test_birth_enrols_once_and_announces_the_identity(client):
    first = await push(client, BIRTH)
    assert first.status_code == 200 and first.json() == {"eventId": "evt-1", "outcome": "enrolled"}
    again = await push(client, BIRTH)  # at-least-once delivery
    assert again.json()["outcome"] == "already-enrolled"
    [child] = await enrolled(client, "BR-2026-000777")
    assert child["identity"]["dateOfBirth"] == "2026/02/28" and child["UIN"] not in first.text
    outbox = (await client.get("/v1/events/outbox", headers=ADMIN)).json()
    assert [e["eventType"] for e in outbox] == ["identity-created"]
    assert outbox[0]["payload"]["civilRegistrationId"] == "BR-2026-000777"


async def test_death_deactivates_the_identity_from_that_birth(client):
    await push(client, BIRTH)
    death: dict[str, Any] = {
        "id": "evt-2",
        "eventType": "death-registered",
        "event": {
            "civilRegistrationId": "DR-1",
            "birthRegistrationId": "BR-2026-000777",
            "dateOfDeath": "2026-03-01",
        },
    }
    assert (await push(client, death)).json()["outcome"] == "deactivated"
    assert (await push(client, death)).json()["outcome"] == "already-deactivated"
    [child] = await enrolled(client, "BR-2026-000777")
    assert child["status"] == "DEACTIVATED" and child["statusReason"] == "death"
    unknown = {**death, "event": {**death["event"], "birthRegistrationId": "BR-unknown"}}
    assert (await push(client, unknown)).json()["outcome"] == "no-identity"


async def test_inbox_refuses_strangers_and_bad_events(client):
    assert (await push(client, BIRTH, headers={})).status_code == 401
    other = await push(client, {**BIRTH, "eventType": "weather-report"})
    assert other.status_code == 400 and codes(other.json()) == ["IDA-MLC-009"]
    broken = {**BIRTH, "event": {"civilRegistrationId": "BR-9", "child": {"givenName": "X"}}}
    response = await push(client, broken)
    assert response.status_code == 400 and "child" in response.json()["errors"][0]["errorMessage"]
    assert await enrolled(client, "BR-9") == []


async def test_the_id_system_subscribes_to_civil_events(make_app):
    seen: list[tuple[str, dict[str, Any], str]] = []
    mediator = FastAPI()

    @mediator.post("/r1/DPI/GOV/CRVS/registries/api/v1/subs/{event_type}")
    async def subscribe(event_type: str, request: Request) -> dict[str, str]:
        seen.append((event_type, await request.json(), request.headers["x-dpi-client-key"]))
        return {"id": event_type}

    def publisher() -> httpx.AsyncClient:
        return make_client("http://mediator", transport=httpx.ASGITransport(app=mediator))

    async with serve_in_process(make_app(publisher=publisher)) as client:
        app = client._transport.app  # type: ignore[attr-defined]
        subscriber = runtime_of(app, IdRegistryRuntime).subscriber
        assert await subscriber.ensure() is True
        assert await subscriber.ensure() is True  # done once
    assert [name for name, _, _ in seen] == ["birth-registered", "death-registered"]
    assert seen[0][1] == {"delivery": "PUSH", "pushPath": "/v1/events/inbox"}
    assert seen[0][2] == client_key("DPI/GOV/NIA/id-registry")
