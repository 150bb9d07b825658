"""Credentials checked from headers alone, before a request body is read."""

from __future__ import annotations

from starlette.types import Scope

from services.consent.runtime import ConsentRuntime
from services.kernel.credentials import same_secret
from services.kernel.errors import DomainError, Unauthorized
from services.kernel.prebody import admin_key_valid, header, mediator_key_valid
from services.kernel.runtime import runtime_of

PUBLIC = frozenset({"/v1/receipts/verify"})  # anyone may check a receipt's signature


def _org_key_valid(scope: Scope) -> bool:
    expected = runtime_of(scope["app"], ConsentRuntime).settings.org_api_key
    scheme, _, presented = (header(scope, "authorization") or "").partition(" ")
    return scheme.lower() == "apikey" and same_secret(presented.strip(), expected)


async def authenticate_headers(scope: Scope) -> DomainError | None:
    """An organisation key, the mediator's key or the admin key; receipt checks are public."""
    if scope["path"] in PUBLIC:
        return None
    if _org_key_valid(scope) or mediator_key_valid(scope) or admin_key_valid(scope):
        return None
    return Unauthorized(
        "An organisation API key is required: `Authorization: ApiKey <key>`.",
        code="api-key-required",
        headers={"WWW-Authenticate": "ApiKey"},
    )
