"""Identities: enrolment, duplicates, update, lifecycle, admin reads."""

from typing import Any

import pytest

from services.id_registry import ids
from tests.id_registry.conftest import ADMIN, codes

pytestmark = pytest.mark.anyio
PERSON = {
    "givenName": "Léa",
    "familyName": "Moreau-Diallo",
    "dateOfBirth": "1991-04-12",
    "gender": "female",
    "address": "4 Cedar Road, District 2",
    "phone": "+999 712 345 678",
    "email": "lea@example.org",
}


async def enrol(client, **overrides) -> Any:
    return await client.post("/v1/identities", json={**PERSON, **overrides}, headers=ADMIN)


async def test_enrol_issues_a_valid_uin_and_reads_back_in_mosip_shape(client):
    response = await enrol(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert ids.is_valid_uin(body["UIN"]) and body["status"] == "ACTIVATED"
    identity = body["identity"]
    assert identity["fullName"] == [{"language": "eng", "value": "Léa Moreau-Diallo"}]
    assert identity["dateOfBirth"] == "1991/04/12"
    assert identity["gender"] == [{"language": "eng", "value": "Female"}]
    read = await client.get(f"/v1/identities/{body['UIN']}", headers=ADMIN)
    assert read.json()["identity"] == identity


async def test_duplicate_is_refused_naming_the_existing_record(client):
    uin = (await enrol(client)).json()["UIN"]
    before = len((await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)).json())
    for variant in (
        {"givenName": "LEA", "familyName": "moreau diallo"},
        {"givenName": " Lea ", "phone": "+999 700 000 000"},
    ):
        duplicate = await enrol(client, **variant)
        assert duplicate.status_code == 409
        assert codes(duplicate.json()) == ["IDR-IDC-003"]
        assert uin in duplicate.json()["errors"][0]["errorMessage"]
    after = len((await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)).json())
    assert after == before
    assert (
        await enrol(client, gender="male")
    ).status_code == 201  # different sex: a different person


async def test_bad_checksum_is_rejected_before_lookup(client):
    uin = (await enrol(client)).json()["UIN"]
    wrong = uin[:-1] + str((int(uin[-1]) + 1) % 10)
    response = await client.get(f"/v1/identities/{wrong}", headers=ADMIN)
    assert response.status_code == 400 and codes(response.json()) == ["IDA-MLC-002"]
    unknown = await client.get("/v1/identities/6497869071", headers=ADMIN)
    assert unknown.status_code == 404 and codes(unknown.json()) == ["IDA-MLC-018"]


async def test_update_changes_only_given_fields_and_keeps_duplicates_out(client):
    uin = (await enrol(client)).json()["UIN"]
    other = (await enrol(client, givenName="Ines")).json()["UIN"]
    updated = await client.patch(
        f"/v1/identities/{uin}", json={"address": "9 Palm Road"}, headers=ADMIN
    )
    assert updated.json()["identity"]["address"][0]["value"] == "9 Palm Road"
    assert updated.json()["identity"]["email"] == "lea@example.org"
    clash = await client.patch(f"/v1/identities/{other}", json={"givenName": "Lea"}, headers=ADMIN)
    assert clash.status_code == 409 and uin in clash.text
    still = await client.get(f"/v1/identities/{other}", headers=ADMIN)
    assert still.json()["identity"]["givenName"][0]["value"] == "Ines"
    bad = await client.patch(f"/v1/identities/{uin}", json={"email": "not-an-email"}, headers=ADMIN)
    assert bad.status_code == 422
    removed = await client.patch(f"/v1/identities/{uin}", json={"givenName": None}, headers=ADMIN)
    assert removed.status_code == 400


async def test_invalid_enrolments_change_nothing(client):
    before = (await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)).json()
    for bad in (
        {"gender": "x"},
        {"dateOfBirth": "31/12/1990"},
        {"givenName": "  "},
        {"phone": "call me"},
        {"language": "English"},
    ):
        assert (await enrol(client, **bad)).status_code == 422, bad
    assert (
        await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)
    ).json() == before


async def test_lifecycle(client):
    uin = (await enrol(client)).json()["UIN"]
    blocked = await client.post(
        f"/v1/identities/{uin}/block", json={"reason": "fraud review"}, headers=ADMIN
    )
    assert blocked.json()["blocked"] is True and blocked.json()["statusReason"] == "fraud review"
    assert (await client.post(f"/v1/identities/{uin}/unblock", headers=ADMIN)).json()[
        "blocked"
    ] is False
    gone = await client.post(
        f"/v1/identities/{uin}/deactivate", json={"reason": "death"}, headers=ADMIN
    )
    assert gone.json()["status"] == "DEACTIVATED"
    again = await client.post(f"/v1/identities/{uin}/deactivate", headers=ADMIN)
    assert again.status_code == 409
    assert (await client.post(f"/v1/identities/{uin}/unblock", headers=ADMIN)).status_code == 409


async def test_civil_registration_id_is_enrolled_once(client):
    first = await enrol(client, civilRegistrationId="BR-1")
    again = await enrol(client, civilRegistrationId="BR-1", givenName="Other")
    assert again.status_code == 409 and first.json()["UIN"] in again.text


async def test_partner_admin(client):
    created = await client.post(
        "/v1/partners",
        json={"partnerId": "bank-kyc", "name": "A bank", "policy": {"allowedAuthTypes": ["otp"]}},
        headers=ADMIN,
    )
    assert created.status_code == 201 and len(created.json()["apiKey"]) >= 24
    assert (
        await client.post(
            "/v1/partners", json={"partnerId": "bank-kyc", "name": "x", "policy": {}}, headers=ADMIN
        )
    ).status_code == 409
    assert (
        await client.post(
            "/v1/partners", json={"partnerId": "Bad Id", "name": "x", "policy": {}}, headers=ADMIN
        )
    ).status_code == 422
    bad_policy = {"partnerId": "p2", "name": "x", "policy": {"allowedAuthTypes": ["bio"]}}
    assert (await client.post("/v1/partners", json=bad_policy, headers=ADMIN)).status_code == 422
    rotated = await client.post("/v1/partners/bank-kyc/api-key", headers=ADMIN)
    assert rotated.json()["apiKey"] != created.json()["apiKey"]
    listed = (await client.get("/v1/partners", headers=ADMIN)).json()
    assert "apiKey" not in str(listed) and "bank-kyc" in [p["partnerId"] for p in listed]
