"""Token exchange: mediator only, same person across partners, fails closed."""

from typing import Any

import pytest

from services.kernel.credentials import mediator_key
from tests.id_registry.conftest import ADMIN, auth, codes, demo_of, envelope, people

pytestmark = pytest.mark.anyio
MEDIATOR = {"X-DPI-Mediator-Key": mediator_key()}


async def token(client, person, partner) -> Any:
    result = await auth(
        client, envelope(person["UIN"], demographics=demo_of(person)), partner=partner
    )
    return result["response"]["authToken"]


async def test_exchange_yields_each_partners_own_token(client):
    person = (await people(client))[0]
    education = await token(client, person, "moe-emis")
    body = {
        "fromPartnerId": "moe-emis",
        "token": education,
        "toPartnerIds": ["moh-hmis", "dpa-consent"],
    }
    response = await client.post("/v1/token-exchange", json=body, headers=MEDIATOR)
    assert response.status_code == 200, response.text
    tokens = response.json()["tokens"]
    assert tokens["moh-hmis"] == await token(client, person, "moh-hmis")
    assert tokens["dpa-consent"] == await token(client, person, "dpa-consent")
    back = await client.post(
        "/v1/token-exchange",
        json={
            "fromPartnerId": "moh-hmis",
            "token": tokens["moh-hmis"],
            "toPartnerIds": ["moe-emis"],
        },
        headers=MEDIATOR,
    )
    assert back.json()["tokens"]["moe-emis"] == education


async def test_only_the_mediator_may_exchange(client):
    person = (await people(client))[0]
    body = {
        "fromPartnerId": "moe-emis",
        "token": await token(client, person, "moe-emis"),
        "toPartnerIds": ["moh-hmis"],
    }
    for headers in ({}, {"X-DPI-Mediator-Key": "nope"}, ADMIN):
        response = await client.post("/v1/token-exchange", json=body, headers=headers)
        assert response.status_code == 401 and codes(response.json()) == ["KER-ATH-403"]


async def test_exchange_fails_closed(client):
    a, b = (await people(client))[:2]
    education = await token(client, a, "moe-emis")

    async def exchange(**body: Any) -> Any:
        payload = {
            "fromPartnerId": "moe-emis",
            "token": education,
            "toPartnerIds": ["moh-hmis"],
            **body,
        }
        return await client.post("/v1/token-exchange", json=payload, headers=MEDIATOR)

    unknown = await exchange(token="not-a-token")
    assert unknown.status_code == 404 and codes(unknown.json()) == ["IDA-MLC-018"]
    # A token is only valid for the partner it was issued to.
    assert (await exchange(fromPartnerId="moh-hmis")).status_code == 404
    assert (await exchange(toPartnerIds=["nobody"])).status_code == 404
    assert (await exchange(toPartnerIds=[])).status_code == 422
    await client.post(f"/v1/identities/{a['UIN']}/block", headers=ADMIN)
    blocked = await exchange()
    assert blocked.status_code == 409 and codes(blocked.json()) == ["IDA-MLC-022"]
    await client.post(f"/v1/identities/{a['UIN']}/unblock", headers=ADMIN)
    assert (await exchange()).status_code == 200
    await client.post(f"/v1/identities/{a['UIN']}/deactivate", headers=ADMIN)
    gone = await exchange()
    assert gone.status_code == 409 and codes(gone.json()) == ["IDA-MLC-003"]
    assert b["UIN"] not in gone.text
