"""OIDC tables (clients, login transactions, client assertions seen, the signing key) and the
client-management bodies in eSignet's `/client-mgmt/oidc-client` shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import field_validator
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.id_registry.base import Base

Claim = Literal[
    "name", "given_name", "family_name", "birthdate", "gender", "address", "phone_number", "email"
]
Acr = Literal["mosip:idp:acr:generated-code", "mosip:idp:acr:knowledge"]
CLIENT_ACTIVE = "ACTIVE"
CLIENT_INACTIVE = "INACTIVE"


def _redirect_uri(value: str) -> str:
    """eSignet's rule: an absolute URI without fragment; `*` only as a final path wildcard."""
    parts = urlsplit(value)
    wildcard = value.endswith("/*")
    if (
        not parts.scheme
        or parts.fragment
        or "*" in (value[:-1] if wildcard else value)
        or (parts.scheme in ("http", "https") and not parts.hostname)
    ):
        raise ValueError(f"not an acceptable redirect URI: {value!r}")
    return value


class _ClientFields(SQLModel):
    clientName: str = Field(min_length=1, max_length=256)
    logoUri: str = Field(min_length=1, max_length=2048, schema_extra={"pattern": r"^https?://"})
    redirectUris: list[str] = Field(min_length=1, max_length=5)
    userClaims: list[Claim] = Field(max_length=30)
    authContextRefs: list[Acr] = Field(min_length=1, max_length=30)
    grantTypes: list[Literal["authorization_code"]] = Field(min_length=1, max_length=3)
    clientAuthMethods: list[Literal["private_key_jwt"]] = Field(min_length=1, max_length=3)

    @field_validator("redirectUris")
    @classmethod
    def _uris(cls, value: list[str]) -> list[str]:
        return [_redirect_uri(uri) for uri in value]


class ClientCreate(_ClientFields):
    """eSignet's create request: the client, its public JWK and the partner it acts for."""

    clientId: str = Field(
        min_length=1, max_length=100, schema_extra={"pattern": r"^[A-Za-z0-9._~:-]+$"}
    )
    publicKey: dict[str, Any]
    relyingPartyId: str = Field(min_length=1, max_length=64)


class ClientUpdate(_ClientFields):
    """eSignet's update request (the key and the partner never change)."""

    status: Literal["ACTIVE", "INACTIVE"]


class ClientCreateEnvelope(SQLModel):
    requestTime: str | None = None
    request: ClientCreate


class ClientUpdateEnvelope(SQLModel):
    requestTime: str | None = None
    request: ClientUpdate


class OidcClient(Base, table=True):
    """A relying party's OIDC client, bound to one partner: its PSUTs are that partner's."""

    __tablename__ = "oidc_client"

    client_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=256)
    partner_id: str = Field(foreign_key="partner.partner_id", max_length=64)
    public_key: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    key_thumbprint: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    logo_uri: str = Field(max_length=2048)
    redirect_uris: list[str] = Field(sa_column=Column(JSON, nullable=False))
    user_claims: list[str] = Field(sa_column=Column(JSON, nullable=False))
    auth_context_refs: list[str] = Field(sa_column=Column(JSON, nullable=False))
    grant_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    client_auth_methods: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=CLIENT_ACTIVE, max_length=10)
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "clientName": self.name,
            "relyingPartyId": self.partner_id,
            "publicKey": self.public_key,
            "logoUri": self.logo_uri,
            "redirectUris": self.redirect_uris,
            "userClaims": self.user_claims,
            "authContextRefs": self.auth_context_refs,
            "grantTypes": self.grant_types,
            "clientAuthMethods": self.client_auth_methods,
            "status": self.status,
        }


class OidcTransaction(Base, table=True):
    """One `/authorize` request through login, code and access token (eSignet's OIDCTransaction).

    Codes and access tokens are stored as SHA-256 hashes only.
    """

    __tablename__ = "oidc_transaction"

    id: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(foreign_key="oidc_client.client_id", max_length=100, index=True)
    redirect_uri: str = Field(max_length=2048)
    state: str | None = Field(default=None, max_length=512)
    nonce: str | None = Field(default=None, max_length=512)
    scope: str = Field(max_length=512)
    claims: list[str] = Field(sa_column=Column(JSON, nullable=False))
    essential_claims: list[str] = Field(sa_column=Column(JSON, nullable=False))
    factors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    code_challenge: str | None = Field(default=None, max_length=43)
    code_challenge_method: str | None = Field(default=None, max_length=10)
    created_at: datetime
    expires_at: datetime
    identity_id: int | None = Field(default=None, foreign_key="identity.id")
    subject: str | None = Field(default=None, max_length=64)
    accepted_claims: list[str] | None = Field(default=None, sa_column=Column(JSON))
    auth_factors: str | None = Field(default=None, max_length=40)
    auth_time: datetime | None = None
    code_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    code_expires_at: datetime | None = None
    code_used_at: datetime | None = None
    access_token_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    access_expires_at: datetime | None = None


class ClientAssertionSeen(Base, table=True):
    """`jti` of every accepted client assertion until it expires: a replay is refused."""

    __tablename__ = "oidc_client_assertion"
    __table_args__ = (UniqueConstraint("client_id", "jti"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=100)
    jti: str = Field(max_length=256)
    expires_at: datetime = Field(index=True)


class SigningKey(Base, table=True):
    """The provider's RS256 key, generated on first use and kept across restarts."""

    __tablename__ = "oidc_signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    private_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
