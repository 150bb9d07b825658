"""Header-only credential checks a service's `authenticate_headers` hook is built from."""

from __future__ import annotations

import hmac

from starlette.types import Scope

from services.kernel.credentials import mediator_key
from services.kernel.errors import Unauthorized
from services.kernel.runtime import kernel_state


def header(scope: Scope, name: str) -> str | None:
    """The first value of header `name` (lower case), decoded as HTTP does."""
    raw = name.encode()
    for key, value in scope["headers"]:
        if key == raw:
            return str(value.decode("latin-1"))
    return None


def _matches(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


def admin_key_valid(scope: Scope) -> bool:
    """`X-DPI-Admin-Key: <key>` or `Authorization: Bearer <key>`, as `require_admin` takes it."""
    expected: str = kernel_state(scope["app"]).settings.admin_key
    presented = header(scope, "x-dpi-admin-key")
    authorization = header(scope, "authorization")
    if presented is None and authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    return _matches(presented, expected)


def mediator_key_valid(scope: Scope) -> bool:
    secret: str = kernel_state(scope["app"]).settings.sandbox_secret
    return _matches(header(scope, "x-dpi-mediator-key"), mediator_key(secret))


def admin_required() -> Unauthorized:
    return Unauthorized("An admin credential is required (X-DPI-Admin-Key).", code="admin-only")


def mediator_required() -> Unauthorized:
    return Unauthorized("Only the interoperability layer may call this.", code="mediator-only")
