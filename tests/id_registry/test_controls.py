"""Mock controls (expectations), the OTP outbox and the audit trail."""

import time
from typing import Any

import pytest

from tests.id_registry.conftest import ADMIN, auth, codes, demo_of, envelope, people, send_otp

pytestmark = pytest.mark.anyio


async def expect(client, **body) -> Any:
    response = await client.post("/v1/mock/expectations", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


async def test_forced_error_for_an_individual(client):
    a, b = (await people(client))[:2]
    await expect(client, individualId=a["UIN"], errorCode="IDA-MLC-018")
    forced = await auth(client, envelope(a["UIN"], demographics=demo_of(a)))
    assert codes(forced) == ["IDA-MLC-018"] and forced["response"] == {"authStatus": False}
    assert (await auth(client, envelope(b["UIN"], demographics=demo_of(b))))["response"][
        "authStatus"
    ]


async def test_forced_error_for_a_partner_with_custom_message(client):
    person = (await people(client))[0]
    await expect(
        client, partnerId="moe-emis", errorCode="IDA-MLC-007", errorMessage="Down for maintenance"
    )
    result = await auth(
        client, envelope(person["UIN"], demographics=demo_of(person)), partner="moe-emis"
    )
    assert result["errors"] == [
        {"errorCode": "IDA-MLC-007", "errorMessage": "Down for maintenance"}
    ]
    otp = await auth(client, envelope(person["UIN"], kind="otp"), partner="moe-emis")
    assert codes(otp) == ["IDA-MLC-007"]
    assert (await auth(client, envelope(person["UIN"], demographics=demo_of(person))))["response"][
        "authStatus"
    ]


async def test_forced_delay(client):
    person = (await people(client))[0]
    await expect(client, individualId=person["UIN"], delayMs=150)
    started = time.monotonic()
    result = await auth(client, envelope(person["UIN"], demographics=demo_of(person)))
    assert time.monotonic() - started >= 0.15
    assert result["response"]["authStatus"] is True


async def test_list_remove_and_clear(client):
    first = await expect(client, individualId="6497869071", errorCode="IDA-MLC-002")
    await expect(client, partnerId="moh-hmis", delayMs=10)
    listed = (await client.get("/v1/mock/expectations", headers=ADMIN)).json()
    assert [e["id"] for e in listed] == [first["id"], first["id"] + 1]
    assert (
        await client.delete(f"/v1/mock/expectations/{first['id']}", headers=ADMIN)
    ).status_code == 204
    assert (
        await client.delete(f"/v1/mock/expectations/{first['id']}", headers=ADMIN)
    ).status_code == 404
    assert (await client.delete("/v1/mock/expectations", headers=ADMIN)).json() == {"deleted": 1}
    assert (await client.get("/v1/mock/expectations", headers=ADMIN)).json() == []


async def test_expectation_validation(client):
    for body in (
        {"errorCode": "IDA-MLC-002"},
        {"individualId": "x"},
        {"individualId": "x", "errorCode": "boom"},
    ):
        response = await client.post("/v1/mock/expectations", json=body, headers=ADMIN)
        assert response.status_code == 422, body


async def test_every_attempt_is_audited_without_secrets(client):
    person = (await people(client))[0]
    otp = await send_otp(client, person["UIN"], txn="AUDIT00001")
    await auth(
        client, envelope(person["UIN"], otp=otp, txn="AUDIT00001", demographics=demo_of(person))
    )
    await auth(
        client,
        envelope(person["UIN"], kind="kyc", txn="AUDIT00002", demographics={"dob": "1900/01/01"}),
    )
    await client.post(
        "/idauthentication/v1/auth/wrong-license/moh-hmis/moh-hmis-sandbox-key",
        json=envelope(person["UIN"], txn="AUDIT00003", demographics=demo_of(person)),
    )
    rows = (await client.get("/v1/audit", headers=ADMIN)).json()
    summary = [(r["transactionID"], r["requestType"], r["status"], r["errorCodes"]) for r in rows]
    assert summary == [
        ("AUDIT00002", "kyc", "failure", ["IDA-DEA-001"]),
        ("AUDIT00001", "auth", "success", []),
        ("AUDIT00001", "otp", "success", []),
    ]
    assert rows[1]["authTypes"] == ["otp", "demo"] and rows[1]["partnerId"] == "moh-hmis"
    text = str(rows)
    for secret in (
        otp,
        person["UIN"],
        person["identity"]["dateOfBirth"],
        person["identity"]["fullName"][0]["value"],
    ):
        assert secret not in text
    assert len({r["individualRef"] for r in rows}) == 1  # attempts still correlate
    filtered = await client.get("/v1/audit", params={"transactionID": "AUDIT00001"}, headers=ADMIN)
    assert len(filtered.json()) == 2


async def test_otp_outbox_shows_the_masked_destinations(client):
    person = (await people(client))[0]
    await send_otp(client, person["UIN"])
    [message] = (await client.get("/v1/mock/otp-outbox", headers=ADMIN)).json()
    assert message["channels"] == ["PHONE", "EMAIL"] and len(message["otp"]) == 6
    assert message["maskedMobile"].endswith(person["identity"]["phone"][-3:])
    assert message["maskedMobile"].startswith("XXXX")
    assert message["expiresAt"] > message["createdAt"] and message["usedAt"] is None
