"""PKCE (RFC 7636, S256 only as eSignet): the challenge at /authorize, the verifier at the token
endpoint; the S256 transform is computed here from the RFC, not with the service's helper."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator

import pytest

from services.id_registry.oidc.models import ClientAssertionSeen, OidcTransaction
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import people
from tests.id_registry.oidc_support import Oidc, redirect_params, seeded_rp

pytestmark = pytest.mark.anyio


def challenge(verifier: str) -> str:
    """RFC 7636 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), no padding."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.b64encode(raw, altchars=b"-_").decode().replace("=", "")


def test_rfc_7636_appendix_b_vector():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.fixture
async def oidc(make_app, clock) -> AsyncIterator[Oidc]:
    app = make_app()
    async with serve_in_process(app) as http:
        yield await Oidc(http=http, app=app, clock=clock).load()


async def uin(oidc: Oidc) -> str:
    return str((await people(oidc.http))[0]["UIN"])


async def test_discovery_advertises_s256_only(oidc):
    assert oidc.config["code_challenge_methods_supported"] == ["S256"]


async def test_s256_round_trip(oidc):
    rp, verifier = seeded_rp(), secrets.token_urlsafe(48)
    code = await oidc.code(
        rp, await uin(oidc), code_challenge=challenge(verifier), code_challenge_method="S256"
    )
    answer = await oidc.token(rp, code, code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    assert (await oidc.userinfo(answer.json()["access_token"])).status_code == 200


@pytest.mark.parametrize(
    "verifier",
    [None, "", "x" * 43, "short", "a" * 129, "é" * 43],
    ids=["missing", "empty", "wrong", "too-short", "too-long", "not-unreserved"],
)
async def test_wrong_or_missing_verifier_is_invalid_grant_and_spends_nothing(oidc, verifier):
    rp, good = seeded_rp(), secrets.token_urlsafe(48)
    code = await oidc.code(
        rp, await uin(oidc), code_challenge=challenge(good), code_challenge_method="S256"
    )
    refused = await oidc.token(rp, code, code_verifier=verifier)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    assert oidc.count(ClientAssertionSeen) == 0
    assert oidc.count(OidcTransaction, code_used_at=None) == 1
    answer = await oidc.token(rp, code, code_verifier=good)
    assert answer.status_code == 200, answer.text


async def test_verifier_without_challenge_is_refused(oidc):
    rp = seeded_rp()
    code = await oidc.code(rp, await uin(oidc))
    refused = await oidc.token(rp, code, code_verifier=secrets.token_urlsafe(48))
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "no challenge" in refused.json()["error_description"]
    assert (await oidc.token(rp, code)).status_code == 200


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "required"),
        (
            {
                "code_challenge": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                "code_challenge_method": "plain",
            },
            "'plain' is not supported",
        ),
        ({"code_challenge": "abc", "code_challenge_method": "S256"}, "43 base64url"),
        (
            {
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM=",
                "code_challenge_method": "S256",
            },
            "43 base64url",
        ),
        ({"code_challenge_method": "S256"}, "without code_challenge"),
    ],
    ids=["no-method", "plain", "short", "padded-std-alphabet", "method-only"],
)
async def test_bad_challenge_is_redirected_invalid_request(oidc, params, says):
    before = oidc.transactions()
    page = await oidc.authorize(seeded_rp(), **params)
    assert page.status_code == 302
    error = redirect_params(page)
    assert error["error"] == "invalid_request" and says in error["error_description"]
    assert error["state"] == "state-1"
    assert oidc.transactions() == before


async def test_repeated_challenge_is_refused(oidc):
    rp = seeded_rp()
    query = [
        ("client_id", rp.client_id),
        ("redirect_uri", rp.redirect_uri),
        ("response_type", "code"),
        ("scope", "openid"),
        ("code_challenge", challenge("a" * 43)),
        ("code_challenge", challenge("b" * 43)),
        ("code_challenge_method", "S256"),
    ]
    page = await oidc.http.get("/authorize", params=query)
    assert page.status_code == 302
    assert redirect_params(page)["error"] == "invalid_request"
