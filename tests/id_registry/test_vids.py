"""VIDs: create, read, revoke, regenerate, expiry and transaction limits (IDA-MLC-005)."""

from typing import Any

import pytest

from services.id_registry import ids
from tests.id_registry.conftest import ADMIN, auth, codes, demo_of, envelope, people

pytestmark = pytest.mark.anyio


async def create_vid(client, uin, vid_type, **extra) -> Any:
    response = await client.post(
        "/idrepository/v1/vid",
        json={
            "id": "mosip.vid.create",
            "version": "v1",
            "request": {"UIN": uin, "vidType": vid_type, **extra},
        },
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    return response.json()["response"]


async def vid_auth(client, person, vid, **extra: Any) -> Any:
    body = envelope(vid, id_type="VID", demographics=demo_of(person), **extra)
    return await auth(client, body)


async def test_create_and_read(client):
    person = (await people(client))[0]
    created = await create_vid(client, person["UIN"], "Perpetual")
    assert created["vidStatus"] == "ACTIVE" and created["vidType"] == "PERPETUAL"
    assert ids.is_valid_vid(created["VID"])
    read = await client.get(f"/idrepository/v1/vid/{created['VID']}", headers=ADMIN)
    assert read.json()["response"]["UIN"] == person["UIN"]


async def test_only_one_active_perpetual_vid(client):
    person = (await people(client))[0]
    first = await create_vid(client, person["UIN"], "PERPETUAL")
    second = await client.post(
        "/idrepository/v1/vid",
        json={"request": {"UIN": person["UIN"], "vidType": "PERPETUAL"}},
        headers=ADMIN,
    )
    assert second.status_code == 409 and codes(second.json()) == ["IDR-VID-004"]
    await client.patch(
        f"/idrepository/v1/vid/{first['VID']}",
        json={"request": {"vidStatus": "REVOKED"}},
        headers=ADMIN,
    )
    assert (await create_vid(client, person["UIN"], "PERPETUAL"))["VID"] != first["VID"]


async def test_revoked_vid_fails_with_mlc_005(client):
    person = (await people(client))[0]
    vid = (await create_vid(client, person["UIN"], "PERPETUAL"))["VID"]
    assert (await vid_auth(client, person, vid))["response"]["authStatus"] is True
    revoked = await client.patch(
        f"/idrepository/v1/vid/{vid}", json={"request": {"vidStatus": "REVOKED"}}, headers=ADMIN
    )
    assert revoked.json()["response"]["vidStatus"] == "REVOKED"
    result = await vid_auth(client, person, vid)
    assert codes(result) == ["IDA-MLC-005"] and "authToken" not in result["response"]
    again = await client.patch(
        f"/idrepository/v1/vid/{vid}", json={"request": {"vidStatus": "REVOKED"}}, headers=ADMIN
    )
    assert again.status_code == 409


async def test_temporary_vid_expires(client, clock):
    person = (await people(client))[0]
    vid = (await create_vid(client, person["UIN"], "TEMPORARY", transactionsAllowed=5))["VID"]
    assert (await vid_auth(client, person, vid))["response"]["authStatus"] is True
    clock.advance(minutes=30)
    result = await vid_auth(client, person, vid, requestTime="2026-03-01T09:30:00.000Z")
    assert codes(result) == ["IDA-MLC-005"] and "expired" in result["errors"][0]["errorMessage"]


async def test_temporary_vid_transaction_limit(client):
    person = (await people(client))[0]
    vid = (await create_vid(client, person["UIN"], "TEMPORARY"))["VID"]  # MOSIP default: 1 use
    failed = await auth(client, envelope(vid, id_type="VID", demographics={"dob": "1900/01/01"}))
    assert codes(failed) == ["IDA-DEA-001"]  # a failed attempt does not spend the VID
    assert (await vid_auth(client, person, vid))["response"]["authStatus"] is True
    result = await vid_auth(client, person, vid)
    assert codes(result) == ["IDA-MLC-005"] and "used" in result["errors"][0]["errorMessage"]


async def test_regenerate(client):
    person = (await people(client))[0]
    old = (await create_vid(client, person["UIN"], "PERPETUAL"))["VID"]
    response = await client.post(f"/idrepository/v1/vid/{old}/regenerate", headers=ADMIN)
    new = response.json()["response"]["VID"]
    assert new != old and response.json()["response"]["vidStatus"] == "ACTIVE"
    assert codes(await vid_auth(client, person, old)) == ["IDA-MLC-005"]
    assert (await vid_auth(client, person, new))["response"]["authStatus"] is True


async def test_vid_errors(client):
    person = (await people(client))[0]
    bad = await client.get("/idrepository/v1/vid/123", headers=ADMIN)
    assert bad.status_code == 400 and codes(bad.json()) == ["IDA-MLC-004"]
    unknown = await client.get("/idrepository/v1/vid/7047243691831927", headers=ADMIN)
    assert unknown.status_code == 404
    bad_type = await client.post(
        "/idrepository/v1/vid",
        json={"request": {"UIN": person["UIN"], "vidType": "FOREVER"}},
        headers=ADMIN,
    )
    assert bad_type.status_code == 422
    bad_uin = await client.post(
        "/idrepository/v1/vid",
        json={"request": {"UIN": "2345678901", "vidType": "PERPETUAL"}},
        headers=ADMIN,
    )
    assert bad_uin.status_code == 400 and codes(bad_uin.json()) == ["IDA-MLC-002"]
