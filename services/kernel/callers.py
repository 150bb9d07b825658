"""Who is calling a provider: the identity the mediator forwarded, or the credential's owner.

A provider trusts a caller identity (client subsystem, end user, purpose, subject token) only on a
call the interoperability layer forwarded, proven by `X-DPI-Mediator-Key`. The mediator sets
`X-Road-Client` to the client it authenticated and `X-DPI-Subject` to the provider's own token
for the person; `X-Road-UserId` and `X-DPI-Purpose` are statements the authenticated client
answers for (as in X-Road). A direct call acts as the owner of the credential it presents.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache

from starlette.requests import Request

from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.errors import BadRequest, Forbidden, Unauthorized
from services.kernel.runtime import kernel_state

CLIENT_HEADERS = ("X-Road-Client", "Information-Mediator-Client", "X-GovStack-Client")
STATEMENT_HEADERS = ("X-Road-UserId", "X-DPI-Purpose", "X-Road-Issue", "X-DPI-Subject")
IDENTITY_HEADERS = CLIENT_HEADERS + STATEMENT_HEADERS


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """The client subsystem, the end user and purpose it states, and the subject token."""

    client: str
    user_id: str | None = None
    purpose: str | None = None
    subject: str | None = None
    mediated: bool = False


@lru_cache(maxsize=4)
def _expected_key(secret: str | None) -> bytes:
    return mediator_key(secret).encode()


def is_mediator_key(presented: str | None, secret: str | None) -> bool:
    """Whether `presented` is the interoperability layer's key (constant-time comparison)."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), _expected_key(secret))


def _secret(request: Request) -> str | None:
    secret: str | None = kernel_state(request.app).settings.sandbox_secret
    return secret


def _value(request: Request, name: str) -> str | None:
    value = (request.headers.get(name) or "").strip()
    return value or None


def mediated_identity(request: Request) -> CallerIdentity | None:
    """The identity the mediator forwarded; None on a direct call; 401 for a wrong mediator key."""
    presented = request.headers.get(MEDIATOR_KEY_HEADER)
    if presented is None:
        return None
    if not is_mediator_key(presented, _secret(request)):
        raise Unauthorized(
            f"{MEDIATOR_KEY_HEADER} is not the interoperability layer's key.",
            code="mediator-key-invalid",
        )
    client = _value(request, "X-Road-Client")
    if client is None:
        raise BadRequest(
            "A call forwarded by the interoperability layer names its client in X-Road-Client.",
            code="client-required",
        )
    return CallerIdentity(
        client=client,
        user_id=_value(request, "X-Road-UserId"),
        purpose=_value(request, "X-DPI-Purpose") or _value(request, "X-Road-Issue"),
        subject=_value(request, "X-DPI-Subject"),
        mediated=True,
    )


def caller_identity(request: Request, *, owner: str) -> CallerIdentity:
    """The forwarded identity, or on a direct call `owner` (the credential's owner).

    A direct call may name `owner` in a client header (GovStack clients always send one); any
    other client, and any end user, purpose or subject, is refused (403) naming the header.
    """
    mediated = mediated_identity(request)
    if mediated is not None:
        return mediated
    for name in CLIENT_HEADERS:
        for value in request.headers.getlist(name):
            claimed = value.strip()
            if claimed == owner or not claimed:
                continue
            raise Forbidden(
                f"Header {name} names {claimed}, but a direct call acts as the owner of its "
                f"key, {owner}; another client's identity is accepted only as forwarded by the "
                f"interoperability layer ({MEDIATOR_KEY_HEADER}).",
                code="identity-not-mediated",
            )
    for name in STATEMENT_HEADERS:
        if name in request.headers:
            raise Forbidden(
                f"Header {name} is accepted only as forwarded by the interoperability layer "
                f"({MEDIATOR_KEY_HEADER}); a direct call acts as the owner of its key, {owner}.",
                code="identity-not-mediated",
            )
    return CallerIdentity(client=owner)
