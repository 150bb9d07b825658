"""`GET /authorize`: the client, its redirect URI and the request, checked in that order."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from services.id_registry.oidc import claims as oidc_claims
from services.id_registry.oidc import pkce
from services.id_registry.oidc.errors import OAuthError, RedirectError, invalid_request
from services.id_registry.oidc.models import CLIENT_ACTIVE, OidcClient, OidcTransaction
from services.id_registry.oidc.provider import IdaAccess, OidcSettings
from services.id_registry.partners.service import ActivePartner


def client_and_partner(
    session: Session, access: IdaAccess, client_id: str | None
) -> tuple[OidcClient, ActivePartner]:
    client = session.get(OidcClient, client_id) if client_id else None
    if client is None or client.status != CLIENT_ACTIVE:
        raise OAuthError("invalid_client", "Unknown or inactive client_id")
    partner = access.partners.all(session).get(client.partner_id)
    if partner is None or not partner.active:
        raise OAuthError("invalid_client", "The client's relying partner is not active")
    return client, partner


def redirect_uri_allowed(registered: list[str], uri: str) -> bool:
    """Exact match, or a registered `.../*` prefix (eSignet's wildcard)."""
    return any(
        uri == pattern or (pattern.endswith("/*") and uri.startswith(pattern[:-1]))
        for pattern in registered
    )


def start(
    *,
    session: Session,
    access: IdaAccess,
    settings: OidcSettings,
    params: Mapping[str, str],
    repeated: set[str],
    now: datetime,
) -> tuple[OidcTransaction, OidcClient]:
    """Validate an authorization request and open its login transaction. Errors go back to the
    client's redirect URI only once the client and that URI are known good."""
    client, partner = client_and_partner(session, access, params.get("client_id"))
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or not redirect_uri_allowed(client.redirect_uris, redirect_uri):
        raise invalid_request("redirect_uri is missing or not registered for this client")
    if repeated & {"client_id", "redirect_uri"}:
        raise invalid_request("client_id and redirect_uri may be given only once")
    state = params.get("state")

    def refuse(error: str, description: str) -> RedirectError:
        return RedirectError(error, description, redirect_uri=redirect_uri, state=state)

    if repeated:
        raise refuse("invalid_request", f"{', '.join(sorted(repeated))} given more than once")
    if not params.get("response_type"):
        raise refuse("invalid_request", "response_type is required")
    if params["response_type"] != "code":
        raise refuse("unsupported_response_type", "Only response_type=code is supported")
    # OpenID Connect Core 6: request objects are refused with their own codes, not ignored
    if params.get("request"):
        raise refuse("request_not_supported", "request objects are not supported")
    if params.get("request_uri"):
        raise refuse("request_uri_not_supported", "request_uri is not supported")
    if params.get("response_mode") not in (None, "", "query"):
        raise refuse("invalid_request", "response_mode is not supported; only query")
    scopes = (params.get("scope") or "").split()
    if "openid" not in scopes:
        raise refuse("invalid_scope", "scope must include openid")
    if "authorization_code" not in client.grant_types:
        raise refuse("unauthorized_client", "The client may not use the authorization code grant")
    if "none" in (params.get("prompt") or "").split():
        raise refuse("login_required", "The person must log in (prompt=none is not possible)")
    for name in ("state", "nonce", "scope"):
        if len(params.get(name) or "") > 512:
            raise refuse("invalid_request", f"{name} is longer than 512 characters")
    try:
        requested = oidc_claims.parse_claims_parameter(params.get("claims"))
        challenge, challenge_method = pkce.challenge_of(params)
    except ValueError as exc:
        raise refuse("invalid_request", str(exc)) from None
    factors = oidc_claims.factors(
        client_acrs=client.auth_context_refs,
        policy=partner.policy,
        acr_values=(params.get("acr_values") or "").split(),
    )
    if not factors:
        raise refuse("unauthorized_client", "No authentication factor is allowed for this client")
    resolved = oidc_claims.resolve(
        scopes=scopes, requested=requested, client_claims=client.user_claims, policy=partner.policy
    )
    session.execute(
        delete(OidcTransaction).where(
            col(OidcTransaction.expires_at) < now,
            or_(
                col(OidcTransaction.code_expires_at).is_(None),
                col(OidcTransaction.code_expires_at) < now,
            ),
            or_(
                col(OidcTransaction.access_expires_at).is_(None),
                col(OidcTransaction.access_expires_at) < now,
            ),
        )
    )
    txn = OidcTransaction(
        id=secrets.token_hex(16),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=state,
        nonce=params.get("nonce"),
        scope=" ".join(scopes),
        claims=resolved.claims,
        essential_claims=resolved.essential,
        factors=factors,
        code_challenge=challenge,
        code_challenge_method=challenge_method or None,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.login_ttl_seconds),
    )
    session.add(txn)
    session.commit()
    return txn, client
