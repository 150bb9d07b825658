"""Encrypted and signed IDA envelopes, round trips with the independent client in
`sealed_client` (a new partner, its certificate uploaded, the ID system's certificates fetched)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from cryptography import x509

from services.kernel.partner_keys import sandbox_partner_key
from tests.id_registry.conftest import (
    ADMIN,
    codes,
    demo_of,
    envelope,
    ida_path,
    people,
)
from tests.id_registry.sealed_client import (
    RelyingParty,
    b64u,
    detached_jws,
    new_identity,
    pem,
    unb64u,
    verify_detached,
)

pytestmark = pytest.mark.anyio
BANK = "bank-kyc"


@pytest.fixture(scope="module")
def bank_identity():
    return new_identity(BANK)


@pytest.fixture(scope="module")
def intruder_identity():
    return new_identity("intruder")


async def ida_certificate(client, reference: str) -> x509.Certificate:
    response = await client.get(
        "/v1/keymanager/getCertificate", params={"applicationId": "IDA", "referenceId": reference}
    )
    assert response.status_code == 200, response.text
    answer = response.json()["response"]
    assert answer["issuedAt"] < answer["expiryAt"]
    return x509.load_pem_x509_certificate(answer["certificate"].encode())


async def onboard(client, identity) -> tuple[RelyingParty, str]:
    """A partner created through the partner API (no plaintext), its certificate uploaded."""
    created = await client.post(
        "/v1/partners",
        json={
            "partnerId": BANK,
            "name": "A bank",
            "policy": {
                "allowedAuthTypes": ["otp", "demo"],
                "allowedKycAttributes": [{"attributeName": "fullName"}],
            },
        },
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    key, cert = identity
    upload = await client.post(
        "/v1/partnermanager/partners/certificate/upload",
        json={
            "request": {"partnerId": BANK, "certificateData": pem(cert), "partnerDomain": "AUTH"}
        },
        headers=ADMIN,
    )
    assert upload.status_code == 200, upload.text
    signed = x509.load_pem_x509_certificate(
        upload.json()["response"]["signedCertificateData"].encode()
    )
    assert signed.public_key() == cert.public_key()
    assert signed.issuer == (await ida_certificate(client, "SIGN")).subject
    party = RelyingParty(key, cert, await ida_certificate(client, "PARTNER"))
    return party, created.json()["apiKey"]


async def test_auth_and_ekyc_round_trip(client, bank_identity):
    party, api_key = await onboard(client, bank_identity)
    person = (await people(client))[0]
    for iv_bytes in (16, 12):
        body = party.seal(envelope(person["UIN"], demographics=demo_of(person)), iv_bytes=iv_bytes)
        response = await client.post(ida_path("auth", BANK, api_key), **party.post_args(body))
        assert response.status_code == 200 and response.json()["errors"] is None, response.text
        assert response.json()["response"]["authStatus"] is True
        sign_cert = await ida_certificate(client, "SIGN")
        verify_detached(response.headers["response-signature"], response.content, sign_cert)

    body = party.seal(envelope(person["UIN"], kind="kyc", demographics=demo_of(person)))
    response = await client.post(ida_path("kyc", BANK, api_key), **party.post_args(body))
    answer = response.json()["response"]
    assert answer["kycStatus"] is True and answer["authToken"]
    assert party.open_identity(answer) == {"fullName": person["identity"]["fullName"]}
    verify_detached(response.headers["response-signature"], response.content, sign_cert)


async def request_otp(client, party: RelyingParty, api_key: str, uin: str, txn: str) -> str:
    """A signed OTP request (MOSIP does not encrypt those), the OTP read from the outbox."""
    otp_body = envelope(uin, kind="otp", txn=txn)
    response = await client.post(ida_path("otp", BANK, api_key), **party.post_args(otp_body))
    assert response.json()["errors"] is None, response.text
    outbox = await client.get("/v1/mock/otp-outbox", params={"individualId": uin}, headers=ADMIN)
    return outbox.json()[0]["otp"]  # type: ignore[no-any-return]


async def test_otp_request_and_otp_auth_signed(client, bank_identity):
    party, api_key = await onboard(client, bank_identity)
    uin = (await people(client))[0]["UIN"]
    otp = await request_otp(client, party, api_key, uin, "SEALED0001")
    unsigned = await client.post(
        ida_path("otp", BANK, api_key), json=envelope(uin, kind="otp", txn="SEALED0001")
    )
    assert codes(unsigned.json()) == ["IDA-MLC-006"]
    body = party.seal(envelope(uin, txn="SEALED0001", otp=otp))
    response = await client.post(ida_path("auth", BANK, api_key), **party.post_args(body))
    assert response.json()["response"]["authStatus"] is True


async def test_a_seeded_partner_uses_its_published_key(client):
    """The scenario partners' certificates are registered at seeding; plaintext stays allowed."""
    published = sandbox_partner_key("moh-hmis")
    assert published is not None
    party = RelyingParty(
        published.private_key, published.certificate, await ida_certificate(client, "PARTNER")
    )
    person = (await people(client))[0]
    body = party.seal(envelope(person["UIN"], kind="kyc", demographics=demo_of(person)))
    response = await client.post(ida_path("kyc"), **party.post_args(body))
    assert party.open_identity(response.json()["response"])["fullName"]


def tampered(body: dict[str, Any], field: str) -> dict[str, Any]:
    data = bytearray(unb64u(body[field]))
    data[0] ^= 1
    return {**body, field: b64u(bytes(data))}


async def test_each_failure_has_its_own_code_and_changes_nothing(
    client, bank_identity, intruder_identity, caplog
):
    party, api_key = await onboard(client, bank_identity)
    person = (await people(client))[0]
    otp = await request_otp(client, party, api_key, person["UIN"], "SEALED0002")
    plain = envelope(person["UIN"], txn="SEALED0002", otp=otp, demographics=demo_of(person))
    good = party.seal(plain)
    intruder_key, intruder_cert = intruder_identity
    raw = party.post_args(good)
    post = party.post_args
    stale = party.seal({**plain, "requestTime": "2019-03-01T09:00:00.000Z"})
    changed = raw["content"].replace(b'"1.0"', b'"1.1"', 1)
    garbage = "eyJhbGciOiJSUzI1NiIsIng1YyI6WyJBQUFBIl19..c2ln"  # x5c: ["AAAA"]
    no_hmac = {k: v for k, v in good.items() if k != "requestHMAC"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("tampered request", post(tampered(good, "request")), "IDA-MPA-003"),
        ("tampered session key", post(tampered(good, "requestSessionKey")), "IDA-MPA-003"),
        ("tampered HMAC", post(tampered(good, "requestHMAC")), "IDA-MPA-016"),
        ("wrong thumbprint", post({**good, "thumbprint": b64u(b"x" * 32)}), "IDA-MPA-004"),
        ("stale requestTime", post(stale), "IDA-MLC-001"),
        ("another partner's key", post(good, intruder_key, x5c=intruder_cert), "IDA-MPA-021"),
        ("another key, own certificate", post(good, intruder_key), "IDA-MPA-001"),
        ("no x5c", post(good, x5c=None), "IDA-MPA-022"),
        ("body changed after signing", {**raw, "content": changed}, "IDA-MPA-001"),
        (
            "unreadable x5c",
            {**raw, "headers": {**raw["headers"], "Signature": garbage}},
            "IDA-MPA-002",
        ),
        ("no Signature header", {"json": good}, "IDA-MLC-006"),
        ("plaintext from a partner that must encrypt", post(plain), "IDA-MLC-006"),
        ("missing HMAC", post(no_hmac), "IDA-MLC-006"),
    ]
    before = (await client.get("/v1/audit", params={"limit": 1000}, headers=ADMIN)).json()
    caplog.set_level(logging.DEBUG)
    for name, args, code in cases:
        response = await client.post(ida_path("auth", BANK, api_key), **args)
        assert response.status_code == 200, name
        assert codes(response.json()) == [code], (name, response.text)
        assert response.json()["transactionID"] == "SEALED0002", name
        assert "response-signature" not in response.headers
    after = (await client.get("/v1/audit", params={"limit": 1000}, headers=ADMIN)).json()
    assert after == before
    for secret in (otp, person["UIN"], person["identity"]["fullName"][0]["value"]):
        assert secret not in caplog.text
    # the OTP is still usable: nothing was spent by the refusals
    response = await client.post(ida_path("auth", BANK, api_key), **party.post_args(good))
    assert response.json()["response"]["authStatus"] is True, response.text


async def test_partner_without_certificate_is_mpa_020(client, bank_identity):
    created = await client.post(
        "/v1/partners",
        json={"partnerId": "nocert", "name": "n", "policy": {"allowedAuthTypes": ["demo"]}},
        headers=ADMIN,
    )
    assert created.status_code == 201, created.text
    api_key = created.json()["apiKey"]
    key, cert = bank_identity
    party = RelyingParty(key, cert, await ida_certificate(client, "PARTNER"))
    person = (await people(client))[0]
    body = party.seal(envelope(person["UIN"], demographics=demo_of(person)))
    response = await client.post(ida_path("auth", "nocert", api_key), **party.post_args(body))
    assert codes(response.json()) == ["IDA-MPA-020"]


async def test_plaintext_partner_signature_is_still_checked(client, intruder_identity):
    person = (await people(client))[0]
    body = envelope(person["UIN"], demographics=demo_of(person))
    raw = json.dumps(body).encode()
    signature = detached_jws(raw, intruder_identity[0], intruder_identity[1])
    response = await client.post(
        ida_path("auth"),
        content=raw,
        headers={"content-type": "application/json", "Signature": signature},
    )
    assert codes(response.json()) == ["IDA-MPA-021"]


async def test_certificate_endpoints_refuse_bad_input(client):
    unknown = await client.get(
        "/v1/keymanager/getCertificate", params={"applicationId": "IDA", "referenceId": "X"}
    )
    assert unknown.status_code == 404 and codes(unknown.json()) == ["KER-KMS-002"]
    body = {
        "request": {"partnerId": "moh-hmis", "certificateData": "nope", "partnerDomain": "AUTH"}
    }
    path = "/v1/partnermanager/partners/certificate/upload"
    assert (await client.post(path, json=body)).status_code == 401
    bad = await client.post(path, json=body, headers=ADMIN)
    assert bad.status_code == 422 and codes(bad.json()) == ["IDA-MLC-009"]
    body["request"]["partnerId"] = "nobody"
    assert (await client.post(path, json=body, headers=ADMIN)).status_code == 404
