"""OIDC client management (admin), eSignet's request and error shapes; the seeded client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey

from services.id_registry.oidc.clients import SEED_CLIENT_ID, SEED_KEY_FILE
from tests.id_registry.conftest import ADMIN
from tests.id_registry.oidc_support import client_body

pytestmark = pytest.mark.anyio
PATH = "/client-mgmt/oidc-client"


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = ADMIN
) -> httpx.Response:
    return await client.post(PATH, json=body, headers=headers)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["errorCode"])


async def test_create_read_and_update_a_client(client):
    key = RSAKey.generate_key(2048, private=True)
    created = await create(client, client_body("school-portal", "moe-emis", key))
    assert created.status_code == 200
    assert created.json()["response"] == {"clientId": "school-portal", "status": "ACTIVE"}
    assert created.json()["errors"] == []
    read = (await client.get(f"{PATH}/school-portal", headers=ADMIN)).json()["response"]
    assert read["relyingPartyId"] == "moe-emis"
    assert read["publicKey"] == key.as_dict(private=False)
    assert read["redirectUris"] == ["https://school-portal.example.org/callback"]

    update = client_body("school-portal", "moe-emis", key)["request"]
    for name in ("clientId", "publicKey", "relyingPartyId"):
        del update[name]
    update.update(status="ACTIVE", redirectUris=["https://school.example.org/oidc/*"])
    changed = await client.put(f"{PATH}/school-portal", json={"request": update}, headers=ADMIN)
    assert changed.status_code == 200
    query = {
        "client_id": "school-portal",
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": "https://school.example.org/oidc/return",
    }
    assert (await client.get("/authorize", params=query)).status_code == 200
    query["redirect_uri"] = "https://school-portal.example.org/callback"
    assert (await client.get("/authorize", params=query)).status_code == 400

    listed = (await client.get(PATH, headers=ADMIN)).json()["response"]
    assert [row["clientId"] for row in listed] == [SEED_CLIENT_ID, "school-portal"]


async def test_client_management_errors(client):
    key = RSAKey.generate_key(2048, private=True)
    body = client_body("dup", "moh-hmis", key)
    assert (await create(client, body)).status_code == 200
    duplicate = await create(client, body)
    assert duplicate.status_code == 409 and error_code(duplicate) == "duplicate_client_id"
    same_key = await create(client, client_body("dup-2", "moh-hmis", key))
    assert same_key.status_code == 409 and error_code(same_key) == "duplicate_public_key"
    other = RSAKey.generate_key(2048, private=True)
    no_partner = await create(client, client_body("x", "no-such-partner", other))
    assert no_partner.status_code == 400 and error_code(no_partner) == "invalid_rp_id"
    private = client_body("x", "moh-hmis", other, publicKey=other.as_dict(private=True))
    refused = await create(client, private)
    assert refused.status_code == 400 and error_code(refused) == "invalid_public_key"
    with pytest.warns(SecurityWarning):
        small = RSAKey.generate_key(1024, private=True)
    weak = await create(client, client_body("x", "moh-hmis", small))
    assert weak.status_code == 400 and error_code(weak) == "invalid_public_key"
    for bad in (["*"], ["https://rp.example.org/*/x"], ["https://rp.example.org/cb#frag"], []):
        response = await create(client, client_body("x", "moh-hmis", other, redirectUris=bad))
        assert response.status_code == 422 and error_code(response) == "IDA-MLC-009", bad
    broken = client_body("x", "moh-hmis", other, publicKey={"kty": "RSA", "n": "!!", "e": 3})
    assert error_code(await create(client, broken)) == "invalid_public_key"
    unknown_claim = client_body("x", "moh-hmis", other, userClaims=["uin"])
    assert (await create(client, unknown_claim)).status_code == 422
    anonymous = await create(client, client_body("x", "moh-hmis", other), headers={})
    assert anonymous.status_code == 401 and error_code(anonymous) == "KER-ATH-401"
    missing = await client.get(f"{PATH}/nobody", headers=ADMIN)
    assert missing.status_code == 404 and error_code(missing) == "invalid_client_id"
    listed = (await client.get(PATH, headers=ADMIN)).json()["response"]
    assert [row["clientId"] for row in listed] == ["dup", SEED_CLIENT_ID]


async def test_seeded_client_uses_the_documented_sandbox_key(client):
    private = json.loads(SEED_KEY_FILE.read_text(encoding="utf-8"))
    seeded = (await client.get(f"{PATH}/{SEED_CLIENT_ID}", headers=ADMIN)).json()["response"]
    assert seeded["relyingPartyId"] == "moh-hmis" and seeded["status"] == "ACTIVE"
    public = RSAKey.import_key(private).as_dict(private=False)
    assert seeded["publicKey"] == public
