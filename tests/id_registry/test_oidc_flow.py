"""OIDC login end to end: form, OTP, code, tokens, userinfo; sub is the partner's PSUT."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from joserfc.jwk import RSAKey
from sqlmodel import select

from services.id_registry.main import create_app
from services.id_registry.oidc.models import SigningKey
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, auth, demo_of, envelope, people
from tests.id_registry.oidc_support import (
    Oidc,
    offered_claims,
    page_errors,
    redirect_params,
    register,
    seeded_rp,
    transaction_of,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def oidc(make_app, clock) -> AsyncIterator[Oidc]:
    app = make_app()
    async with serve_in_process(app) as http:
        yield await Oidc(http=http, app=app, clock=clock).load()


async def psut(oidc: Oidc, person, partner: str) -> str:
    body = envelope(person["UIN"], demographics=demo_of(person), txn="5555555555")
    result = await auth(oidc.http, body, partner=partner)
    return str(result["response"]["authToken"])


async def test_discovery_and_jwks(oidc):
    config = oidc.config
    issuer = config["issuer"]
    assert config["subject_types_supported"] == ["pairwise"]
    assert config["token_endpoint"] == f"{issuer}/oauth/v2/token"
    assert config["authorization_endpoint"] == f"{issuer}/authorize"
    assert config["userinfo_endpoint"] == f"{issuer}/oidc/userinfo"
    assert config["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["response_types_supported"] == ["code"]
    keys = (await oidc.http.get("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    assert keys[0]["kid"] and "d" not in keys[0] and "p" not in keys[0]


async def test_otp_login_end_to_end(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    page = await oidc.authorize(rp, claims=json.dumps({"userinfo": {"name": {"essential": True}}}))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert offered_claims(page.text) == ["name", "birthdate", "gender"]  # scope profile x policy
    assert 'value="name" checked required' in page.text
    txn, _ = await oidc.start(rp)
    otp = await oidc.send_otp(txn, person["UIN"])
    done = await oidc.submit(txn, person["UIN"], otp=otp, claim=["name", "birthdate"])
    assert done.status_code == 302
    assert done.headers["location"].startswith(rp.redirect_uri + "?")
    params = redirect_params(done)
    assert params["state"] == "state-1" and len(params["code"]) >= 32

    answer = await oidc.token(rp, params["code"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    id_token = await oidc.verify(tokens["id_token"])
    now = int(oidc.clock.now.timestamp())
    assert id_token["iss"] == oidc.config["issuer"] and id_token["aud"] == rp.client_id
    assert id_token["nonce"] == "nonce-1" and id_token["iat"] == now and id_token["exp"] > now
    assert id_token["acr"] == "mosip:idp:acr:generated-code" and id_token["amr"] == ["otp"]
    assert id_token["at_hash"]
    assert id_token["sub"] == await psut(oidc, person, "moh-hmis")

    info = await oidc.userinfo(tokens["access_token"])
    assert info.status_code == 200 and info.headers["content-type"] == "application/jwt"
    claims = await oidc.verify(info.text)
    identity = person["identity"]
    assert claims == {
        "iss": oidc.config["issuer"],
        "aud": rp.client_id,
        "sub": id_token["sub"],
        "iat": now,
        "name": identity["fullName"][0]["value"],
        "birthdate": identity["dateOfBirth"].replace("/", "-"),
    }
    everything = json.dumps([tokens, id_token, claims, await oidc.verify(tokens["access_token"])])
    assert person["UIN"] not in everything and person["UIN"] not in done.headers["location"]


async def test_demographic_login_releases_only_consented_claims(oidc):
    person = (await people(oidc.http))[1]
    rp = seeded_rp()
    txn, offered = await oidc.start(rp, scope="openid profile phone address")
    assert offered == ["name", "birthdate", "gender", "address", "phone_number"]
    name = person["identity"]["fullName"][0]["value"]
    dob = person["identity"]["dateOfBirth"].replace("/", "-")
    done = await oidc.submit(txn, person["UIN"], name=name, dob=dob, claim=["gender", "address"])
    assert done.status_code == 302, done.text
    tokens = (await oidc.token(rp, redirect_params(done)["code"])).json()
    id_token = await oidc.verify(tokens["id_token"])
    assert id_token["acr"] == "mosip:idp:acr:knowledge" and id_token["amr"] == ["kba"]
    claims = await oidc.verify((await oidc.userinfo(tokens["access_token"])).text)
    assert set(claims) == {"iss", "aud", "sub", "iat", "gender", "address"}
    assert claims["address"] == {"formatted": person["identity"]["address"][0]["value"]}
    assert claims["gender"] == person["identity"]["gender"][0]["value"].lower()


async def test_sub_is_per_partner_and_policy_limits_claims(oidc):
    person = (await people(oidc.http))[2]
    health = seeded_rp()
    school = await register(oidc.http, "school-portal", "moe-emis")
    health_sub = (await oidc.verify((await oidc.tokens(health, person["UIN"]))["id_token"]))["sub"]
    scope = "openid profile phone email"
    school_tokens = await oidc.tokens(school, person["UIN"], scope=scope)
    school_sub = (await oidc.verify(school_tokens["id_token"]))["sub"]
    assert school_sub != health_sub
    assert school_sub == await psut(oidc, person, "moe-emis")
    assert health_sub == await psut(oidc, person, "moh-hmis")
    # The client may have phone and email, the education partner's policy releases neither.
    claims = await oidc.verify((await oidc.userinfo(school_tokens["access_token"])).text)
    assert set(claims) - {"iss", "aud", "sub", "iat"} == {"name", "birthdate", "gender"}


async def test_login_by_vid_gives_the_same_sub(oidc):
    person = (await people(oidc.http))[3]
    created = await oidc.http.post(
        "/idrepository/v1/vid",
        json={"request": {"UIN": person["UIN"], "vidType": "PERPETUAL"}},
        headers=ADMIN,
    )
    vid = created.json()["response"]["VID"]
    rp = seeded_rp()
    by_vid = await oidc.tokens(rp, vid)
    by_uin = await oidc.tokens(rp, person["UIN"])
    sub = (await oidc.verify(by_vid["id_token"]))["sub"]
    assert sub == (await oidc.verify(by_uin["id_token"]))["sub"]
    info = (await oidc.userinfo(by_vid["access_token"])).text
    assert vid not in json.dumps([by_vid, await oidc.verify(by_vid["id_token"])])
    assert vid not in json.dumps(await oidc.verify(info))


async def test_login_attempts_are_audited_and_a_failure_can_be_retried(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    txn, offered = await oidc.start(rp)
    otp = await oidc.send_otp(txn, person["UIN"])
    wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
    failed = await oidc.submit(txn, person["UIN"], otp=wrong, claim=offered)
    assert failed.status_code == 401 and page_errors(failed.text) == ["IDA-OTA-004"]
    assert transaction_of(failed.text) == txn
    done = await oidc.submit(txn, person["UIN"], otp=otp, claim=offered)
    assert done.status_code == 302
    rows = (await oidc.http.get("/v1/audit", params={"transactionID": txn}, headers=ADMIN)).json()
    assert [(r["requestType"], r["status"], r["errorCodes"]) for r in rows] == [
        ("oidc", "success", []),
        ("oidc", "failure", ["IDA-OTA-004"]),
        ("otp", "success", []),
    ]
    assert {r["partnerId"] for r in rows} == {"moh-hmis"}
    assert all(person["UIN"] not in json.dumps(r) for r in rows)


async def test_cancel_returns_access_denied_and_ends_the_login(oidc):
    person = (await people(oidc.http))[0]
    rp = seeded_rp()
    txn, _ = await oidc.start(rp)
    cancelled = await oidc.http.post("/authorize", data={"transaction_id": txn, "action": "cancel"})
    assert cancelled.status_code == 302
    assert redirect_params(cancelled) == {
        "error": "access_denied",
        "error_description": "The person cancelled the login",
        "state": "state-1",
    }
    again = await oidc.submit(txn, person["UIN"], name="x")
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


async def test_signing_key_and_tokens_survive_a_restart(oidc, clock):
    person = (await people(oidc.http))[0]
    tokens = await oidc.tokens(seeded_rp(), person["UIN"])
    before = (await oidc.http.get("/.well-known/jwks.json")).json()
    restarted = create_app(
        runtime_of(oidc.app, IdRegistryRuntime).settings,
        clock=clock,
        run_drainer=False,
        configure_logs=False,
    )
    async with serve_in_process(restarted) as http:
        assert (await http.get("/.well-known/jwks.json")).json() == before
        info = await http.get(
            "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert info.status_code == 200
    key = RSAKey.import_key(before["keys"][0])
    assert key.raw_value.key_size == 2048


async def test_signing_key_is_made_by_the_first_call_that_needs_it(make_app):
    """Not at start (an RSA generation there cost every first start 0.1 to 0.3 s): the service
    is ready without one, the JWKS makes and stores it, and every later call gets the same."""
    app = make_app()
    async with serve_in_process(app) as http:
        assert (await http.get("/readyz")).status_code == 200
        database = runtime_of(app, IdRegistryRuntime).database
        with database.session() as session:
            assert session.exec(select(SigningKey)).all() == []
        first = (await http.get("/.well-known/jwks.json")).json()
        with database.session() as session:
            stored = session.exec(select(SigningKey)).all()
        assert [row.kid for row in stored] == [key["kid"] for key in first["keys"]]
        assert (await http.get("/.well-known/jwks.json")).json() == first
