"""Helpers shared by the OIDC tests (no tests here): a relying party driving the login page the
way a browser would, without one."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import func
from sqlmodel import select

from services.id_registry.ida.models import AuthAudit
from services.id_registry.oidc.clients import SEED_CLIENT_ID, SEED_KEY_FILE, SEED_REDIRECT_URIS
from services.id_registry.oidc.models import OidcTransaction
from services.kernel.runtime import kernel_state
from tests.id_registry.conftest import ADMIN, FakeClock

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Rp:
    """A relying party's OIDC client: id, private key, redirect URI."""

    client_id: str
    key: RSAKey
    redirect_uri: str


def seeded_rp() -> Rp:
    key = RSAKey.import_key(json.loads(SEED_KEY_FILE.read_text(encoding="utf-8")))
    return Rp(SEED_CLIENT_ID, key, SEED_REDIRECT_URIS[0])


def client_body(client_id: str, partner: str, key: RSAKey, **changes: Any) -> dict[str, Any]:
    request = {
        "clientId": client_id,
        "clientName": f"{client_id} portal",
        "publicKey": key.as_dict(private=False),
        "relyingPartyId": partner,
        "logoUri": "https://rp.example.org/logo.png",
        "redirectUris": [f"https://{client_id}.example.org/callback"],
        "userClaims": ["name", "birthdate", "gender", "phone_number", "email"],
        "authContextRefs": ["mosip:idp:acr:generated-code", "mosip:idp:acr:knowledge"],
        "grantTypes": ["authorization_code"],
        "clientAuthMethods": ["private_key_jwt"],
        **changes,
    }
    return {"requestTime": "2026-03-01T09:00:00.000Z", "request": request}


async def register(http: httpx.AsyncClient, client_id: str, partner: str, **changes: Any) -> Rp:
    key = RSAKey.generate_key(2048, private=True)
    body = client_body(client_id, partner, key, **changes)
    response = await http.post("/client-mgmt/oidc-client", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return Rp(client_id, key, body["request"]["redirectUris"][0])


@dataclass
class Oidc:
    """The app under test, its client, its clock and the provider's metadata."""

    http: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    config: dict[str, Any] = field(default_factory=dict)

    async def load(self) -> Oidc:
        self.config = (await self.http.get("/.well-known/openid-configuration")).json()
        return self

    @property
    def token_endpoint(self) -> str:
        return str(self.config["token_endpoint"])

    def count(self, model: Any, **where: Any) -> int:
        database = kernel_state(self.app).database
        with database.session() as session:
            query = select(func.count()).select_from(model)
            for name, value in where.items():
                query = query.where(getattr(model, name) == value)
            return int(session.exec(query).one())

    def transactions(self) -> int:
        return self.count(OidcTransaction)

    def audits(self, request_type: str = "oidc") -> int:
        return self.count(AuthAudit, request_type=request_type)

    def assertion(self, rp: Rp, **overrides: Any) -> str:
        now = int(self.clock.now.timestamp())
        claims = {
            "iss": rp.client_id,
            "sub": rp.client_id,
            "aud": self.token_endpoint,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_hex(8),
            **overrides,
        }
        signing_key = claims.pop("key", rp.key)
        return jwt.encode({"alg": "RS256"}, claims, signing_key)

    async def authorize(self, rp: Rp, **params: Any) -> httpx.Response:
        query = {
            "client_id": rp.client_id,
            "redirect_uri": rp.redirect_uri,
            "response_type": "code",
            "scope": "openid profile",
            "state": "state-1",
            "nonce": "nonce-1",
            **params,
        }
        return await self.http.get("/authorize", params={k: v for k, v in query.items() if v})

    async def start(self, rp: Rp, **params: Any) -> tuple[str, list[str]]:
        """The login page's transaction id and the claims it offers."""
        page = await self.authorize(rp, **params)
        assert page.status_code == 200, page.text
        return transaction_of(page.text), offered_claims(page.text)

    async def send_otp(self, txn: str, individual_id: str) -> str:
        sent = await self.http.post(
            "/authorize/send-otp", data={"transaction_id": txn, "individual_id": individual_id}
        )
        assert sent.status_code == 200, sent.text
        outbox = await self.http.get(
            "/v1/mock/otp-outbox", params={"transactionID": txn, "limit": 1}, headers=ADMIN
        )
        return str(outbox.json()[0]["otp"])

    async def submit(self, txn: str, individual_id: str, **fields: Any) -> httpx.Response:
        form = {"transaction_id": txn, "individual_id": individual_id, "action": "login", **fields}
        return await self.http.post("/authorize", data=form)

    async def code(self, rp: Rp, individual_id: str, **params: Any) -> str:
        """Log in with an OTP, accepting every claim offered; the authorization code."""
        accept = params.pop("accept", None)
        txn, offered = await self.start(rp, **params)
        otp = await self.send_otp(txn, individual_id)
        claims = offered if accept is None else accept
        done = await self.submit(txn, individual_id, otp=otp, claim=claims)
        assert done.status_code == 302, done.text
        return redirect_params(done)["code"]

    async def token(self, rp: Rp, code: str, **fields: Any) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": fields.pop("assertion", None) or self.assertion(rp),
            **fields,
        }
        return await self.http.post(
            "/oauth/v2/token", data={k: v for k, v in form.items() if v is not None}
        )

    async def tokens(self, rp: Rp, individual_id: str, **params: Any) -> dict[str, Any]:
        answer = await self.token(rp, await self.code(rp, individual_id, **params))
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def userinfo(self, access_token: str) -> httpx.Response:
        return await self.http.get(
            "/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWT signed by the provider's published key."""
        keys = KeySet.import_key_set((await self.http.get("/.well-known/jwks.json")).json())
        return jwt.decode(token, keys, algorithms=["RS256"]).claims

    def advance(self, seconds: float) -> None:
        self.clock.now += timedelta(seconds=seconds)


def transaction_of(html: str) -> str:
    found = re.search(r'name="transaction_id" value="([0-9a-f]{32})"', html)
    assert found, html
    return found.group(1)


def offered_claims(html: str) -> list[str]:
    return re.findall(r'name="claim" value="([a-z_]+)"', html)


def page_errors(html: str) -> list[str]:
    return re.findall(r'class="error">([A-Za-z]+-[A-Z]+-\d{3}|[a-z_]+):', html)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
