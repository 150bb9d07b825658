"""Every IDA error code, each reached by a real request; HTTP 200 and no token on failure."""

import asyncio
from typing import Any

import pytest

from tests.id_registry.conftest import (
    ADMIN,
    auth,
    codes,
    demo_of,
    envelope,
    ida_path,
    people,
    send_otp,
)

pytestmark = pytest.mark.anyio


async def add_partner(client, partner_id, auth_types, kyc=()) -> Any:
    response = await client.post(
        "/v1/partners",
        json={
            "partnerId": partner_id,
            "name": partner_id,
            "policy": {
                "allowedAuthTypes": list(auth_types),
                "allowedKycAttributes": [{"attributeName": name} for name in kyc],
                "allowPlaintextRequests": True,
            },
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    return response.json()["apiKey"]


async def test_success_returns_a_token_and_no_errors(client):
    person = (await people(client))[0]
    result = await auth(client, envelope(person["UIN"], demographics=demo_of(person)))
    assert result["response"]["authStatus"] is True
    assert result["response"]["authToken"] and result["errors"] is None
    assert result["transactionID"] == "1234567890" and result["id"] == "mosip.identity.auth"


@pytest.mark.parametrize(
    ("individual_id", "id_type", "code"),
    [
        ("2345678901", "UIN", "IDA-MLC-002"),  # bad check digit / sequence: rejected unseen
        ("12345", "UIN", "IDA-MLC-002"),
        ("7047243691831928", "VID", "IDA-MLC-004"),
        ("x" * 20, "VID", "IDA-MLC-004"),
    ],
)
async def test_malformed_ids(client, individual_id, id_type, code):
    result = await auth(
        client, envelope(individual_id, id_type=id_type, demographics={"dob": "1990/01/01"})
    )
    assert result["response"] == {"authStatus": False}
    assert codes(result) == [code]


async def test_well_formed_but_unknown_ids_are_018(client):
    for value, id_type in (("6497869071", "UIN"), ("7047243691831927", "VID")):
        result = await auth(
            client, envelope(value, id_type=id_type, demographics={"dob": "1990/01/01"})
        )
        assert codes(result) == ["IDA-MLC-018"]
        assert "authToken" not in result["response"]


async def test_consent_not_obtained_is_012(client):
    person = (await people(client))[0]
    result = await auth(
        client, envelope(person["UIN"], demographics=demo_of(person), consent=False)
    )
    assert codes(result) == ["IDA-MLC-012"] and "authToken" not in result["response"]


async def test_no_auth_factor_is_008(client):
    person = (await people(client))[0]
    result = await auth(client, envelope(person["UIN"]))
    assert codes(result) == ["IDA-MLC-008"]


async def test_auth_type_outside_policy_is_mpa_006(client):
    person = (await people(client))[0]
    key = await add_partner(client, "demo-only", ["demo"])
    otp_auth = envelope(person["UIN"], otp="123456")
    result = await auth(client, otp_auth, partner="demo-only", key=key)
    assert codes(result) == ["IDA-MPA-006"]
    assert "OTP" in result["errors"][0]["errorMessage"]
    otp_request = await auth(
        client, envelope(person["UIN"], kind="otp"), partner="demo-only", key=key
    )
    assert codes(otp_request) == ["IDA-MPA-005"] and otp_request["response"] is None
    kyc = await auth(
        client,
        envelope(person["UIN"], kind="kyc", demographics=demo_of(person)),
        partner="demo-only",
        key=key,
    )
    assert codes(kyc) == ["IDA-MPA-013"] and kyc["response"]["kycStatus"] is False


async def test_demographic_mismatch_and_missing(client):
    person = (await people(client))[0]
    wrong = {**demo_of(person), "dob": "1901/01/01"}
    result = await auth(client, envelope(person["UIN"], demographics=wrong))
    assert codes(result) == ["IDA-DEA-001"] and "dob" in result["errors"][0]["errorMessage"]
    gender = [{"language": "eng", "value": "other"}]
    result = await auth(client, envelope(person["UIN"], demographics={"gender": gender}))
    assert codes(result) == ["IDA-DEA-001"]
    await client.patch(f"/v1/identities/{person['UIN']}", json={"email": None}, headers=ADMIN)
    result = await auth(client, envelope(person["UIN"], demographics={"emailId": "a@b.org"}))
    assert codes(result) == ["IDA-DEA-003"]


async def test_demographic_match_is_case_and_spacing_insensitive(client):
    person = (await people(client))[0]
    name = person["identity"]["fullName"][0]["value"]
    demo = {
        "name": [{"language": "eng", "value": f"  {name.upper()} "}],
        "phoneNumber": person["identity"]["phone"].replace(" ", ""),
    }
    result = await auth(client, envelope(person["UIN"], demographics=demo))
    assert result["response"]["authStatus"] is True


async def test_otp_errors(client, clock):
    person = (await people(client))[0]
    uin = person["UIN"]
    result = await auth(client, envelope(uin, otp="000000"))
    assert codes(result) == ["IDA-OTA-004"]  # none was sent
    otp = await send_otp(client, uin, txn="TXN0000001")
    wrong = "111111" if otp != "111111" else "222222"
    assert codes(await auth(client, envelope(uin, otp=wrong, txn="TXN0000001"))) == ["IDA-OTA-004"]
    assert codes(await auth(client, envelope(uin, otp=otp, txn="TXN0000002"))) == ["IDA-OTA-005"]
    clock.advance(seconds=181)
    assert codes(await auth(client, envelope(uin, otp=otp, txn="TXN0000001"))) == ["IDA-OTA-003"]


async def test_failed_otp_attempts_leave_it_unused(client):
    uin = (await people(client))[0]["UIN"]
    otp = await send_otp(client, uin, txn="TXN0000001")
    wrong = "111111" if otp != "111111" else "222222"
    assert codes(await auth(client, envelope(uin, otp=wrong, txn="TXN0000001"))) == ["IDA-OTA-004"]
    assert codes(await auth(client, envelope(uin, otp=otp, txn="TXN0000002"))) == ["IDA-OTA-005"]
    outbox = (await client.get("/v1/mock/otp-outbox", headers=ADMIN)).json()
    assert [message["usedAt"] for message in outbox] == [None]
    ok = await auth(client, envelope(uin, otp=otp, txn="TXN0000001"))
    assert ok["response"]["authStatus"] is True
    outbox = (await client.get("/v1/mock/otp-outbox", headers=ADMIN)).json()
    assert [message["usedAt"] is not None for message in outbox] == [True]


async def test_otp_is_single_use(client):
    uin = (await people(client))[0]["UIN"]
    otp = await send_otp(client, uin)
    first = await auth(client, envelope(uin, otp=otp))
    assert first["response"]["authStatus"] is True
    again = await auth(client, envelope(uin, otp=otp))
    assert codes(again) == ["IDA-OTA-004"] and "authToken" not in again["response"]


async def test_otp_just_before_expiry_still_works(client, clock):
    uin = (await people(client))[0]["UIN"]
    otp = await send_otp(client, uin)
    clock.advance(seconds=179)
    assert (await auth(client, envelope(uin, otp=otp)))["response"]["authStatus"] is True


async def test_otp_channel_not_registered_is_014(client):
    person = (await people(client))[0]
    await client.patch(
        f"/v1/identities/{person['UIN']}", json={"phone": None, "email": None}, headers=ADMIN
    )
    result = await auth(client, envelope(person["UIN"], kind="otp"))
    assert codes(result) == ["IDA-MLC-014"]
    outbox = await client.get("/v1/mock/otp-outbox", headers=ADMIN)
    assert outbox.json() == []


async def test_deactivated_and_blocked_identities_fail(client):
    first, second = (await people(client))[:2]
    await client.post(
        f"/v1/identities/{first['UIN']}/deactivate", json={"reason": "death"}, headers=ADMIN
    )
    result = await auth(client, envelope(first["UIN"], demographics=demo_of(first)))
    assert codes(result) == ["IDA-MLC-003"]
    vid = await client.post(
        "/idrepository/v1/vid",
        json={"request": {"UIN": second["UIN"], "vidType": "PERPETUAL"}},
        headers=ADMIN,
    )
    await client.post(f"/v1/identities/{second['UIN']}/block", headers=ADMIN)
    assert codes(await auth(client, envelope(second["UIN"], demographics=demo_of(second)))) == [
        "IDA-MLC-022"
    ]
    await client.post(f"/v1/identities/{second['UIN']}/unblock", headers=ADMIN)
    assert (await auth(client, envelope(second["UIN"], demographics=demo_of(second))))["response"][
        "authStatus"
    ]
    await client.post(f"/v1/identities/{second['UIN']}/deactivate", headers=ADMIN)
    by_vid = envelope(vid.json()["response"]["VID"], id_type="VID", demographics=demo_of(second))
    assert codes(await auth(client, by_vid)) == ["IDA-MLC-010"]


@pytest.mark.parametrize(
    ("misp", "partner", "key", "status", "code"),
    [
        # MOSIP answers HTTP 200 with errors[] for these too
        ("wrong-license", "moh-hmis", "moh-hmis-sandbox-key", 200, "IDA-MPA-007"),
        (None, "nobody", "nobody-sandbox-key", 200, "IDA-MPA-009"),
        (None, "moh-hmis", "moe-emis-sandbox-key", 200, "IDA-MPA-009"),
    ],
)
async def test_partner_path_checks(client, misp, partner, key, status, code):
    person = (await people(client))[0]
    path = ida_path("auth", partner, key)
    if misp:
        path = path.replace("dpi-sandbox-misp-license-key", misp)
    response = await client.post(path, json=envelope(person["UIN"], demographics=demo_of(person)))
    assert response.status_code == status
    assert codes(response.json()) == [code] and response.json()["response"] is None


async def test_deactivated_partner_is_mpa_012(client):
    person = (await people(client))[0]
    await client.patch("/v1/partners/moe-emis", json={"status": "DEACTIVATED"}, headers=ADMIN)
    response = await client.post(
        ida_path("auth", "moe-emis"), json=envelope(person["UIN"], demographics=demo_of(person))
    )
    assert response.status_code == 200 and codes(response.json()) == ["IDA-MPA-012"]
    await client.patch("/v1/partners/moe-emis", json={"status": "ACTIVE"}, headers=ADMIN)
    response = await client.post(
        ida_path("auth", "moe-emis"), json=envelope(person["UIN"], demographics=demo_of(person))
    )
    assert response.json()["response"]["authStatus"] is True


async def test_concurrent_uses_of_one_otp_succeed_once(client):
    uin = (await people(client))[0]["UIN"]
    otp = await send_otp(client, uin)
    results = await asyncio.gather(*(auth(client, envelope(uin, otp=otp)) for _ in range(6)))
    statuses = sorted(r["response"]["authStatus"] for r in results)
    assert statuses == [False] * 5 + [True]
    assert all(codes(r) == ["IDA-OTA-004"] for r in results if not r["response"]["authStatus"])


@pytest.mark.parametrize(
    ("request_time", "code"),
    [
        ("2019-03-01T09:00:00.000Z", ["IDA-MLC-001"]),
        ("2026-03-01T09:11:00.000Z", ["IDA-MLC-001"]),  # 11 minutes ahead of the clock
        ("2026-03-01T08:51:00.000Z", []),  # 9 minutes behind: within the window
    ],
)
async def test_request_time_window(client, request_time, code):
    person = (await people(client))[0]
    body = envelope(person["UIN"], demographics=demo_of(person), requestTime=request_time)
    before = len((await client.get("/v1/audit", headers=ADMIN)).json())
    result = await auth(client, body)
    assert codes(result) == code
    audited = len((await client.get("/v1/audit", headers=ADMIN)).json())
    assert audited == before + (0 if code else 1)
