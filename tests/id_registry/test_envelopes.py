"""Malformed requests get a clear 4xx in MOSIP's shape and change nothing."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.id_registry.conftest import ADMIN, codes, envelope, ida_path, people, send_otp

pytestmark = pytest.mark.anyio


async def snapshot(client) -> tuple[int, list[Any]]:
    audit = (await client.get("/v1/audit", params={"limit": 1000}, headers=ADMIN)).json()
    outbox = (await client.get("/v1/mock/otp-outbox", params={"limit": 500}, headers=ADMIN)).json()
    return len(audit), [(row["id"], row["usedAt"]) for row in outbox]


def broken_bodies(uin, otp) -> Iterator[tuple[Any, str]]:
    good = envelope(uin, otp=otp)
    yield b"{not json", "IDA-MLC-009"
    yield b"[1, 2]", "IDA-MLC-009"
    for missing in (
        "transactionID",
        "individualId",
        "individualIdType",
        "request",
        "consentObtained",
        "requestTime",
        "version",
    ):
        body = dict(good)
        del body[missing]
        yield body, "IDA-MLC-006"
    yield {**good, "id": "mosip.identity.kyc"}, "IDA-MLC-009"
    yield {**good, "individualIdType": "PSUT"}, "IDA-MLC-009"
    yield {**good, "requestTime": "yesterday"}, "IDA-MLC-009"
    yield {**good, "consentObtained": "perhaps"}, "IDA-MLC-009"
    yield {**good, "request": {"otp": "12ab"}}, "IDA-MLC-009"
    yield {**good, "request": {"demographics": {"dob": "31-01-1990"}}}, "IDA-MLC-009"
    yield {**good, "transactionID": "has space"}, "IDA-MLC-009"


async def test_malformed_auth_envelopes_are_200_with_errors_and_change_nothing(client):
    """MOSIP answers HTTP 200 with `errors[]` for every IDA failure."""
    uin = (await people(client))[0]["UIN"]
    otp = await send_otp(client, uin)
    before = await snapshot(client)
    for body, code in broken_bodies(uin, otp):
        if isinstance(body, bytes):
            response = await client.post(
                ida_path("auth"), content=body, headers={"content-type": "application/json"}
            )
        else:
            response = await client.post(ida_path("auth"), json=body)
        assert response.status_code == 200, (body, response.text)
        payload = response.json()
        assert codes(payload) == [code], (body, payload)
        assert payload["response"] is None and payload["errors"][0]["errorMessage"]
        assert "Traceback" not in response.text
    assert await snapshot(client) == before
    # The OTP was not consumed by any of them.
    ok = await client.post(ida_path("auth"), json=envelope(uin, otp=otp))
    assert ok.json()["response"]["authStatus"] is True


async def test_missing_parameter_is_named(client):
    body = envelope("6497869071", demographics={"dob": "1990/01/01"})
    del body["transactionID"]
    response = await client.post(ida_path("auth"), json=body)
    assert response.json()["errors"][0]["errorMessage"] == "Missing Input Parameter - transactionID"


async def test_malformed_otp_request(client):
    uin = (await people(client))[0]["UIN"]
    body = envelope(uin, kind="otp")
    del body["otpChannel"]
    response = await client.post(ida_path("otp"), json=body)
    assert response.status_code == 200 and codes(response.json()) == ["IDA-OTA-008"]
    response = await client.post(ida_path("otp"), json={**body, "otpChannel": ["PIGEON"]})
    assert response.status_code == 200 and codes(response.json()) == ["IDA-MLC-009"]
    assert (await client.get("/v1/mock/otp-outbox", headers=ADMIN)).json() == []


async def test_admin_endpoints_need_the_admin_key(client):
    for method, path in (
        ("GET", "/v1/identities"),
        ("GET", "/v1/partners"),
        ("GET", "/v1/mock/otp-outbox"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/mock/expectations"),
        ("GET", "/v1/events/outbox"),
        ("POST", "/idrepository/v1/vid"),
    ):
        response = await client.request(method, path, headers={"X-DPI-Admin-Key": "guess"})
        assert response.status_code == 401, path
        assert codes(response.json()) == ["KER-ATH-401"]


async def test_invalid_admin_body_is_4xx_in_mosip_shape(client):
    response = await client.post("/v1/identities", json={"givenName": "A"}, headers=ADMIN)
    assert response.status_code == 422
    body = response.json()
    assert codes(body) == ["IDA-MLC-009"] and "familyName" in body["errors"][0]["errorMessage"]
