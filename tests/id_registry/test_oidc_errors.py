"""OIDC errors in OAuth's shape, and a refused request changes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from services.id_registry.oidc.models import ClientAssertionSeen, OidcTransaction
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, people
from tests.id_registry.oidc_support import (
    Oidc,
    client_body,
    page_errors,
    redirect_params,
    register,
    seeded_rp,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def oidc(make_app, clock) -> AsyncIterator[Oidc]:
    app = make_app()
    async with serve_in_process(app) as http:
        yield await Oidc(http=http, app=app, clock=clock).load()


def unsigned(client_id: str, audience: str, now: int) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 60}
    return f"{part({'alg': 'none'})}.{part({**claims, 'jti': 'x'})}."


def oauth_error(response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert set(body) == {"error", "error_description"}
    return str(body["error_description"])


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"client_id": None}, "invalid_client"),
        ({"client_id": "no-such-client"}, "invalid_client"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"redirect_uri": "https://attacker.example.org/callback"}, "invalid_request"),
        ({"redirect_uri": "http://127.0.0.1:8765/callback/more"}, "invalid_request"),
    ],
)
async def test_authorize_without_a_valid_client_or_redirect_uri_is_a_400(oidc, params, error):
    response = await oidc.authorize(seeded_rp(), **params)
    oauth_error(response, 400, error)
    assert "location" not in response.headers and oidc.transactions() == 0


async def test_authorize_for_an_inactive_client_is_a_400(oidc):
    rp = seeded_rp()
    request = client_body(rp.client_id, "moh-hmis", rp.key)["request"]
    for name in ("clientId", "publicKey", "relyingPartyId"):
        del request[name]
    request.update(status="INACTIVE", redirectUris=[rp.redirect_uri])
    updated = await oidc.http.put(
        f"/client-mgmt/oidc-client/{rp.client_id}", json={"request": request}, headers=ADMIN
    )
    assert updated.status_code == 200 and updated.json()["response"]["status"] == "INACTIVE"
    oauth_error(await oidc.authorize(rp), 400, "invalid_client")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"claims": json.dumps({"userinfo": {"name": {"essential": "yes"}}})}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"state": "s" * 513}, "invalid_request"),
        # defined by OpenID Connect / eSignet, not implemented: refused, never ignored
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "request_uri_not_supported"),
        ({"response_mode": "form_post"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
    ],
)
async def test_authorize_errors_go_back_to_the_redirect_uri(oidc, params, error):
    rp = seeded_rp()
    response = await oidc.authorize(rp, **params)
    assert response.status_code == 302, response.text
    assert response.headers["location"].startswith(rp.redirect_uri + "?")
    sent = redirect_params(response)
    assert sent["error"] == error and sent["error_description"]
    assert sent.get("state") == params.get("state", "state-1")
    assert oidc.transactions() == 0


async def test_a_repeated_parameter_is_refused(oidc):
    rp = seeded_rp()
    query = (
        f"client_id={rp.client_id}&redirect_uri={rp.redirect_uri}&response_type=code"
        "&scope=openid&scope=openid%20profile&state=s"
    )
    response = await oidc.http.get(f"/authorize?{query}")
    assert response.status_code == 302
    assert redirect_params(response)["error"] == "invalid_request"
    assert oidc.transactions() == 0


async def test_a_client_without_an_allowed_factor_cannot_start(oidc):
    await oidc.http.patch(
        "/v1/partners/moe-emis",
        json={"policy": {"allowedAuthTypes": ["demo"], "allowedKycAttributes": []}},
        headers=ADMIN,
    )
    rp = await register(
        oidc.http, "otp-only", "moe-emis", authContextRefs=["mosip:idp:acr:generated-code"]
    )
    response = await oidc.authorize(rp)
    assert redirect_params(response)["error"] == "unauthorized_client"


async def test_login_form_errors_change_nothing(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    txn, offered = await oidc.start(
        rp, claims=json.dumps({"userinfo": {"name": {"essential": True}}})
    )
    missing = await oidc.submit(txn, person["UIN"], otp="123456", claim=["birthdate"])
    assert missing.status_code == 400 and page_errors(missing.text) == ["invalid_accepted_claim"]
    wider = await oidc.submit(txn, person["UIN"], otp="123456", claim=[*offered, "email"])
    assert page_errors(wider.text) == ["invalid_accepted_claim"]
    nothing = await oidc.submit(txn, person["UIN"], claim=offered)
    assert nothing.status_code == 401 and page_errors(nothing.text) == ["IDA-MLC-008"]
    bad_dob = await oidc.submit(txn, person["UIN"], dob="31.01.1990", claim=offered)
    assert bad_dob.status_code == 400 and page_errors(bad_dob.text) == ["IDA-MLC-009"]
    assert oidc.audits() == 1  # only the attempt without a factor reached IDA's checks
    unknown = await oidc.http.post("/authorize", data={"transaction_id": "0" * 32})
    oauth_error(unknown, 400, "invalid_request")
    oauth_error(await oidc.http.post("/authorize", json={"x": 1}), 400, "invalid_request")


async def test_a_factor_the_client_was_not_registered_for_is_refused(oidc):
    person = (await people(oidc.http))[0]
    rp = await register(
        oidc.http, "otp-client", "moh-hmis", authContextRefs=["mosip:idp:acr:generated-code"]
    )
    txn, offered = await oidc.start(rp)
    identity = person["identity"]
    name, dob = identity["fullName"][0]["value"], identity["dateOfBirth"].replace("/", "-")
    refused = await oidc.submit(txn, person["UIN"], name=name, dob=dob, claim=offered)
    assert refused.status_code == 401 and page_errors(refused.text) == ["IDA-MPA-006"]
    assert 'name="dob"' not in refused.text


async def test_an_expired_login_must_start_again(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    txn, offered = await oidc.start(rp)
    otp = await oidc.send_otp(txn, person["UIN"])
    oidc.advance(601)
    late = await oidc.submit(txn, person["UIN"], otp=otp, claim=offered)
    oauth_error(late, 400, "invalid_request")
    assert oidc.audits() == 0


async def test_code_is_single_use_and_short_lived(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    code = await oidc.code(rp, person["UIN"])
    first = await oidc.token(rp, code)
    assert first.status_code == 200
    description = oauth_error(await oidc.token(rp, code), 400, "invalid_grant")
    assert "already used" in description
    # a replayed code may have been stolen: the token it issued is revoked (RFC 6749 §4.1.2)
    assert (await oidc.userinfo(first.json()["access_token"])).status_code == 401

    late = await oidc.code(rp, person["UIN"])
    oidc.advance(61)
    assert "expired" in oauth_error(await oidc.token(rp, late), 400, "invalid_grant")
    oauth_error(await oidc.token(rp, "not-a-code"), 400, "invalid_grant")


async def test_code_is_bound_to_its_client_and_redirect_uri(oidc):
    person = (await people(oidc.http))[0]
    health = seeded_rp()
    other = await register(oidc.http, "other-health", "moh-hmis")
    code = await oidc.code(health, person["UIN"])
    oauth_error(
        await oidc.token(other, code, redirect_uri=health.redirect_uri), 400, "invalid_grant"
    )
    changed = "http://localhost:8765/callback"  # registered too, but not the one authorized
    oauth_error(await oidc.token(health, code, redirect_uri=changed), 400, "invalid_grant")
    assert (await oidc.token(health, code)).status_code == 200  # still unspent


async def test_bad_client_assertions_are_refused_and_spend_nothing(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    code = await oidc.code(rp, person["UIN"])
    now = int(oidc.clock.now.timestamp())
    stranger = RSAKey.generate_key(2048, private=True)
    bad = {
        "wrong key": oidc.assertion(rp, key=stranger),
        "wrong aud": oidc.assertion(rp, aud=oidc.config["issuer"]),
        "expired": oidc.assertion(rp, iat=now - 120, exp=now - 1),
        "no jti": oidc.assertion(rp, jti=None),
        "sub differs": oidc.assertion(rp, sub="someone-else"),
        "not a JWT": "abc.def.ghi",
        "alg none": unsigned(rp.client_id, oidc.token_endpoint, now),
    }
    for name, assertion in bad.items():
        response = await oidc.token(rp, code, assertion=assertion, client_id=rp.client_id)
        assert response.status_code == 401, name
        assert response.json()["error"] == "invalid_client", name
    oauth_error(
        await oidc.token(rp, code, client_assertion_type="password"), 400, "invalid_request"
    )
    oauth_error(await oidc.token(rp, code, grant_type="password"), 400, "unsupported_grant_type")
    unknown = oidc.assertion(rp, iss="nobody", sub="nobody")
    oauth_error(await oidc.token(rp, code, assertion=unknown), 401, "invalid_client")
    assert oidc.count(ClientAssertionSeen) == 0
    assert oidc.count(OidcTransaction, code_used_at=None) == 1

    assertion = oidc.assertion(rp)
    assert (await oidc.token(rp, code, assertion=assertion)).status_code == 200
    second = await oidc.code(rp, person["UIN"])
    replayed = await oidc.token(rp, second, assertion=assertion)
    assert "already used" in oauth_error(replayed, 401, "invalid_client")
    assert (await oidc.token(rp, second)).status_code == 200  # the replay spent nothing


async def test_userinfo_needs_a_valid_access_token(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    tokens = await oidc.tokens(rp, person["UIN"])
    missing = await oidc.http.get("/oidc/userinfo")
    oauth_error(missing, 401, "invalid_token")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    basic = await oidc.http.get("/oidc/userinfo", headers={"Authorization": "Basic eDp5"})
    oauth_error(basic, 400, "invalid_request")
    garbage = await oidc.userinfo("not-a-token")
    oauth_error(garbage, 401, "invalid_token")
    assert 'error="invalid_token"' in garbage.headers["www-authenticate"]
    forged_key = RSAKey.generate_key(2048, private=True)
    claims = await oidc.verify(tokens["access_token"])
    forged = jwt.encode({"alg": "RS256"}, claims, forged_key)
    oauth_error(await oidc.userinfo(forged), 401, "invalid_token")
    oauth_error(await oidc.userinfo(tokens["id_token"]), 401, "invalid_token")
    assert (await oidc.userinfo(tokens["access_token"])).status_code == 200
    oidc.advance(3601)
    oauth_error(await oidc.userinfo(tokens["access_token"]), 401, "invalid_token")


async def test_userinfo_stops_for_a_blocked_identity(oidc):
    person = (await people(oidc.http))[0]
    tokens = await oidc.tokens(seeded_rp(), person["UIN"])
    await oidc.http.post(f"/v1/identities/{person['UIN']}/block", json={}, headers=ADMIN)
    oauth_error(await oidc.userinfo(tokens["access_token"]), 401, "invalid_token")


async def test_send_otp_failures_show_ida_codes(oidc):
    rp = seeded_rp()
    txn, _ = await oidc.start(rp)
    form = {"transaction_id": txn, "individual_id": "1234567890"}  # fails the UIN rules
    bad = await oidc.http.post("/authorize/send-otp", data=form)
    assert bad.status_code == 400 and page_errors(bad.text) == ["IDA-MLC-002"]
    no_channel = {**form, "individual_id": (await people(oidc.http))[0]["UIN"], "channel": "FAX"}
    refused = await oidc.http.post("/authorize/send-otp", data=no_channel)
    assert refused.status_code == 400 and page_errors(refused.text) == ["IDA-MLC-009"]
    outbox = await oidc.http.get(
        "/v1/mock/otp-outbox", params={"transactionID": txn}, headers=ADMIN
    )
    assert outbox.json() == []


async def test_mock_expectations_apply_to_logins(oidc):
    person = (await people(oidc.http))[0]
    forced = {"individualId": person["UIN"], "errorCode": "IDA-MLC-018"}
    assert (await oidc.http.post("/v1/mock/expectations", json=forced, headers=ADMIN)).is_success
    rp = seeded_rp()
    txn, offered = await oidc.start(rp)
    identity = person["identity"]
    name, dob = identity["fullName"][0]["value"], identity["dateOfBirth"].replace("/", "-")
    failed = await oidc.submit(txn, person["UIN"], name=name, dob=dob, claim=offered)
    assert failed.status_code == 401 and page_errors(failed.text) == ["IDA-MLC-018"]
    await oidc.http.delete("/v1/mock/expectations", headers=ADMIN)
    done = await oidc.submit(txn, person["UIN"], name=name, dob=dob, claim=offered)
    assert done.status_code == 302
