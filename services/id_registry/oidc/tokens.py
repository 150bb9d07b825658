"""Token endpoint (code for tokens, `private_key_jwt`), userinfo, and the discovery document."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.id_registry.identities.models import STATUS_ACTIVE, Identity
from services.id_registry.oidc import claims as oidc_claims
from services.id_registry.oidc import pkce
from services.id_registry.oidc.errors import (
    OAuthError,
    invalid_client,
    invalid_grant,
    invalid_request,
    invalid_token,
)
from services.id_registry.oidc.keys import (
    ALGORITHM,
    ASSERTION_TYPE,
    ServerKey,
    at_hash,
    digest,
    unverified_issuer,
    verify_assertion,
)
from services.id_registry.oidc.models import (
    CLIENT_ACTIVE,
    ClientAssertionSeen,
    OidcClient,
    OidcTransaction,
)
from services.id_registry.oidc.provider import Oidc
from services.id_registry.partners.service import PartnerCache


def discovery(oidc: Oidc) -> dict[str, Any]:
    return {
        "issuer": oidc.issuer,
        "authorization_endpoint": oidc.authorization_endpoint,
        "token_endpoint": oidc.token_endpoint,
        "userinfo_endpoint": oidc.userinfo_endpoint,
        "jwks_uri": oidc.jwks_uri,
        "scopes_supported": oidc_claims.SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "acr_values_supported": list(oidc_claims.ACR_FACTOR),
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "userinfo_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": pkce.METHODS,
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claim_types_supported": ["normal"],
        "claims_supported": ["sub", *oidc_claims.CLAIM_ATTRIBUTE],
        "display_values_supported": ["page"],
        "ui_locales_supported": ["en"],
    }


def _client(session: Session, form: Mapping[str, str]) -> tuple[OidcClient, str]:
    """The client the request claims to be, and its assertion (not yet verified)."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise invalid_request(f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion")
    if not assertion:
        raise invalid_request("client_assertion is required (private_key_jwt)")
    client_id = form.get("client_id") or unverified_issuer(assertion)
    client = session.get(OidcClient, client_id) if client_id else None
    if client is None or client.status != CLIENT_ACTIVE:
        raise invalid_client("Unknown or inactive client")
    if "private_key_jwt" not in client.client_auth_methods:
        raise invalid_client("The client may not authenticate with private_key_jwt")
    return client, assertion


def exchange_code(
    *, session: Session, oidc: Oidc, key: ServerKey, form: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """Authenticate the client, then spend the code: both or nothing is recorded."""
    if not form.get("grant_type"):
        raise invalid_request("grant_type is required")
    if form["grant_type"] != "authorization_code":
        raise OAuthError("unsupported_grant_type", "Only authorization_code is supported")
    client, assertion = _client(session, form)
    claims = verify_assertion(
        assertion,
        jwk=client.public_key,
        client_id=client.client_id,
        audience=oidc.token_endpoint,
        now=now,
    )
    code = form.get("code")
    if not code:
        raise invalid_request("code is required")
    txn = session.exec(
        select(OidcTransaction).where(OidcTransaction.code_hash == digest(code))
    ).first()
    if txn is None or txn.client_id != client.client_id:
        raise invalid_grant("Unknown authorization code")
    if txn.code_used_at is not None:
        _revoke_access(session, txn_id=txn.id)
        raise invalid_grant("The authorization code was already used")
    assert txn.code_expires_at is not None and txn.subject is not None
    if now >= txn.code_expires_at:
        raise invalid_grant("The authorization code has expired")
    if form.get("redirect_uri") != txn.redirect_uri:
        raise invalid_grant("redirect_uri differs from the authorization request's")
    refused = pkce.verifier_error(txn.code_challenge, form.get("code_verifier"))
    if refused is not None:
        raise invalid_grant(refused)

    issued = int(now.timestamp())
    access_ttl = oidc.settings.access_token_ttl_seconds
    access_token = key.sign(
        {
            "iss": oidc.issuer,
            "sub": txn.subject,
            "aud": client.client_id,
            "client_id": client.client_id,
            "scope": txn.scope,
            "iat": issued,
            "exp": issued + access_ttl,
            "jti": secrets.token_urlsafe(16),
        },
        typ="at+jwt",
    )
    factors = (txn.auth_factors or "").split(",")
    id_claims: dict[str, Any] = {
        "iss": oidc.issuer,
        "sub": txn.subject,
        "aud": client.client_id,
        "iat": issued,
        "exp": issued + oidc.settings.id_token_ttl_seconds,
        "auth_time": int(txn.auth_time.timestamp()) if txn.auth_time else issued,
        "acr": " ".join(oidc_claims.FACTOR_ACR[f] for f in factors if f in oidc_claims.FACTOR_ACR),
        "amr": [oidc_claims.FACTOR_AMR[f] for f in factors if f in oidc_claims.FACTOR_AMR],
        "at_hash": at_hash(access_token),
    }
    if txn.nonce is not None:
        id_claims["nonce"] = txn.nonce
    session.execute(delete(ClientAssertionSeen).where(col(ClientAssertionSeen.expires_at) < now))
    session.add(
        ClientAssertionSeen(
            client_id=client.client_id,
            jti=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise invalid_client("The client assertion's jti was already used") from None
    spent = session.connection().execute(
        update(OidcTransaction)
        .where(col(OidcTransaction.id) == txn.id, col(OidcTransaction.code_used_at).is_(None))
        .values(
            code_used_at=now,
            access_token_hash=digest(access_token),
            access_expires_at=now + timedelta(seconds=access_ttl),
        )
    )
    if spent.rowcount != 1:
        session.rollback()
        raise invalid_grant("The authorization code was already used")
    session.commit()
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": access_ttl,
        "id_token": key.sign(id_claims),
    }


def _revoke_access(session: Session, *, txn_id: str) -> None:
    """A replayed code may be stolen: revoke the access token it issued (RFC 6749 §4.1.2)."""
    session.connection().execute(
        update(OidcTransaction)
        .where(col(OidcTransaction.id) == txn_id)
        .values(access_token_hash=None, access_expires_at=None)
    )
    session.commit()


def bearer_token(authorization: str | None) -> str:
    if authorization is None:
        raise OAuthError(
            "invalid_token",
            "A bearer access token is required",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="id_registry"'},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OAuthError(
            "invalid_request",
            "Authorization must be 'Bearer <access token>'",
            headers={"WWW-Authenticate": 'Bearer error="invalid_request"'},
        )
    return token.strip()


def userinfo(
    *,
    session: Session,
    oidc: Oidc,
    key: ServerKey,
    partners: PartnerCache,
    authorization: str | None,
    now: datetime,
) -> str:
    """The claims the person consented to, as a JWT signed by the provider (eSignet's
    `application/jwt` answer); only those the client and the partner's policy still allow."""
    token = bearer_token(authorization)
    claims = key.verify(token)
    if claims is None or claims.get("iss") != oidc.issuer:
        raise invalid_token("The access token was not issued by this provider")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now.timestamp():
        raise invalid_token("The access token has expired")
    txn = session.exec(
        select(OidcTransaction).where(OidcTransaction.access_token_hash == digest(token))
    ).first()
    if txn is None or txn.access_expires_at is None or now >= txn.access_expires_at:
        raise invalid_token("Unknown or expired access token")
    client = session.get(OidcClient, txn.client_id)
    partner = partners.all(session).get(client.partner_id) if client else None
    if client is None or client.status != CLIENT_ACTIVE or partner is None or not partner.active:
        raise invalid_token("The client is no longer active")
    identity = session.get(Identity, txn.identity_id)
    if identity is None or identity.status != STATUS_ACTIVE or identity.blocked:
        raise invalid_token("The person's identity is no longer active")
    allowed = oidc_claims.policy_claims(partner.policy)
    released = [
        claim
        for claim in txn.accepted_claims or []
        if claim in allowed and claim in client.user_claims
    ]
    return key.sign(
        {
            "iss": oidc.issuer,
            "aud": client.client_id,
            "sub": txn.subject,
            "iat": int(now.timestamp()),
            **oidc_claims.claim_values(identity, released),
        }
    )
