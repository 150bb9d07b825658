"""Credentials checked from headers (and IDA's path) alone, before a request body is read."""

from __future__ import annotations

import hmac

from starlette.types import Scope

from services.id_registry.errors import MosipError
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.errors import DomainError
from services.kernel.prebody import (
    admin_key_valid,
    admin_required,
    mediator_key_valid,
    mediator_required,
)
from services.kernel.runtime import runtime_of

IDA_PREFIX = "/idauthentication/v1/"
# OpenID Connect: the client authenticates inside the form (client_assertion), the user by OTP;
# the ID system's certificates are public
PUBLIC = frozenset(
    {"/authorize", "/authorize/send-otp", "/oauth/v2/token", "/v1/keymanager/getCertificate"}
)
MEDIATOR_ONLY = frozenset({"/v1/token-exchange", "/v1/events/inbox"})


async def authenticate_headers(scope: Scope) -> DomainError | None:
    """IDA: the MISP licence key in the path (partner and API key follow, post-body, in MOSIP's
    order); OIDC endpoints are public; the mediator's endpoints its key; the rest the admin key."""
    path: str = scope["path"]
    if path in PUBLIC:
        return None
    if path.startswith(IDA_PREFIX):
        parts = path[len(IDA_PREFIX) :].split("/")
        expected = runtime_of(scope["app"], IdRegistryRuntime).settings.misp_license_key
        if len(parts) != 4 or hmac.compare_digest(parts[1].encode(), expected.encode()):
            return None  # no such route (a 404, body unread) or the right licence key
        return MosipError("IDA-MPA-007", status_code=200)  # MOSIP: HTTP 200 with errors[]
    if path in MEDIATOR_ONLY:
        return None if mediator_key_valid(scope) else mediator_required()
    return None if admin_key_valid(scope) else admin_required()
