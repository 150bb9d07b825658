"""eKYC policy filtering; PSUTs: stable, per partner, unlinkable, same by VID, never an id."""

import base64
import hashlib
from typing import Any

import pytest

from tests.id_registry.conftest import ADMIN, auth, codes, demo_of, envelope, people

pytestmark = pytest.mark.anyio


async def test_kyc_returns_only_policy_attributes(client):
    person = (await people(client))[0]
    body = envelope(person["UIN"], kind="kyc", demographics=demo_of(person))
    health = await auth(client, body, partner="moh-hmis")
    assert health["response"]["kycStatus"] is True
    assert set(health["response"]["identity"]) == {
        "fullName",
        "dateOfBirth",
        "gender",
        "phone",
        "address",
    }
    education = await auth(client, body, partner="moe-emis")
    assert set(education["response"]["identity"]) == {"fullName", "dateOfBirth", "gender"}
    assert education["response"]["identity"]["fullName"] == person["identity"]["fullName"]
    assert "UIN" not in str(education["response"]) and person["UIN"] not in str(education)


async def test_kyc_request_narrows_but_never_widens(client):
    person = (await people(client))[0]
    body = envelope(
        person["UIN"],
        kind="kyc",
        demographics=demo_of(person),
        allowedKycAttributes=["fullName", "email", "phone"],
    )
    result = await auth(client, body, partner="moe-emis")
    assert set(result["response"]["identity"]) == {"fullName"}  # email/phone not in its policy


async def test_kyc_policy_change_applies_immediately(client):
    person = (await people(client))[0]
    policy = {
        "allowedAuthTypes": ["demo"],
        "allowedKycAttributes": [{"attributeName": "email"}],
        "allowPlaintextRequests": True,
    }
    await client.patch("/v1/partners/moe-emis", json={"policy": policy}, headers=ADMIN)
    result = await auth(
        client,
        envelope(person["UIN"], kind="kyc", demographics=demo_of(person)),
        partner="moe-emis",
    )
    assert result["response"]["identity"] == {"email": person["identity"]["email"]}


async def test_failed_kyc_returns_no_identity(client):
    person = (await people(client))[0]
    body = envelope(person["UIN"], kind="kyc", demographics={"dob": "1900/01/01"})
    result = await auth(client, body)
    assert result["response"] == {"kycStatus": False, "authToken": None, "identity": None}
    assert codes(result) == ["IDA-DEA-001"]


async def token(client, person, partner, **kw) -> Any:
    result = await auth(
        client,
        envelope(kw.pop("individual_id", person["UIN"]), demographics=demo_of(person), **kw),
        partner=partner,
    )
    assert result["response"]["authStatus"] is True, result
    return result["response"]["authToken"]


async def test_psut_is_stable_per_partner_and_differs_across(client):
    a, b = (await people(client))[:2]
    health = await token(client, a, "moh-hmis")
    assert await token(client, a, "moh-hmis", txn="9999999999") == health
    education = await token(client, a, "moe-emis")
    assert education != health
    assert await token(client, b, "moh-hmis") not in (health, education)
    for value in (health, education):
        assert a["UIN"] not in value
        # Not MOSIP mock's unkeyed derivation: nobody without the server secret can compute it.
        unkeyed = base64.urlsafe_b64encode(
            hashlib.sha3_256((a["UIN"] + "moh-hmis").encode()).digest()
        )
        assert value.encode() != unkeyed.rstrip(b"=")


async def test_psut_depends_on_the_server_secret(make_app):
    from services.kernel.testing import serve_in_process

    tokens = []
    for secret in ("secret-one", "secret-two"):
        async with serve_in_process(make_app(psut_secret=secret)) as client:
            person = (await people(client))[0]
            tokens.append((person["UIN"], await token(client, person, "moh-hmis")))
    assert tokens[0][0] == tokens[1][0]  # same seeded person
    assert tokens[0][1] != tokens[1][1]


async def test_vid_gives_the_same_psut_as_the_uin(client):
    person = (await people(client))[0]
    by_uin = await token(client, person, "msp-spmis")
    for vid_type in ("PERPETUAL", "TEMPORARY"):
        created = await client.post(
            "/idrepository/v1/vid",
            json={"request": {"UIN": person["UIN"], "vidType": vid_type}},
            headers=ADMIN,
        )
        vid = created.json()["response"]["VID"]
        assert await token(client, person, "msp-spmis", individual_id=vid, id_type="VID") == by_uin


async def test_psut_is_not_accepted_as_an_individual_id(client):
    person = (await people(client))[0]
    psut = await token(client, person, "moh-hmis")
    for id_type, code in (("UIN", "IDA-MLC-002"), ("VID", "IDA-MLC-004")):
        result = await auth(client, envelope(psut, id_type=id_type, demographics=demo_of(person)))
        assert codes(result) == [code]
