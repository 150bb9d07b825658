"""Sandbox credentials every service can derive, and the checks on admin and mediator calls.

The keys themselves are in `services.kernel.derived_keys` (importable without the web stack).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.kernel.derived_keys import (
    ADMIN_KEY_HEADER,
    CLIENT_KEY_HEADER,
    DEFAULT_SECRET,
    MEDIATOR_KEY_HEADER,
    client_key,
    mediator_key,
    partner_id,
    same_secret,
)
from services.kernel.errors import Unauthorized
from services.kernel.runtime import kernel_state

__all__ = [
    "ADMIN_KEY_HEADER",
    "CLIENT_KEY_HEADER",
    "DEFAULT_SECRET",
    "MEDIATOR_KEY_HEADER",
    "AdminDep",
    "MediatorDep",
    "client_key",
    "mediator_key",
    "partner_id",
    "require_admin",
    "require_mediator",
    "same_secret",
]


def _admin_key(request: Request) -> str:
    key: str = kernel_state(request.app).settings.admin_key
    return key


def require_admin(
    request: Request,
    x_dpi_admin_key: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Admin endpoints: `X-DPI-Admin-Key: <key>` or `Authorization: Bearer <key>`."""
    expected = _admin_key(request)
    presented = x_dpi_admin_key
    if presented is None and authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
    if presented is None or not same_secret(presented, expected):
        raise Unauthorized("An admin credential is required (X-DPI-Admin-Key).", code="admin-only")


def require_mediator(
    request: Request, x_dpi_mediator_key: Annotated[str | None, Header()] = None
) -> None:
    """Endpoints that only the interoperability layer may call."""
    expected = mediator_key(kernel_state(request.app).settings.sandbox_secret)
    if x_dpi_mediator_key is None or not same_secret(x_dpi_mediator_key, expected):
        raise Unauthorized("Only the interoperability layer may call this.", code="mediator-only")


AdminDep = Annotated[None, Depends(require_admin)]
MediatorDep = Annotated[None, Depends(require_mediator)]
