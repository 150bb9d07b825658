"""Sandbox credentials every service can derive: partner ids, mediator client keys, admin checks.

Keys are HMACs of a member id under `DPI_SANDBOX_SECRET`, so the mediator and each service agree
without a key exchange step. They are development credentials: set the secret in any shared setup.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Annotated

from fastapi import Depends, Header, Request

from services.kernel.errors import Unauthorized
from services.kernel.runtime import kernel_state

CLIENT_KEY_HEADER = "X-DPI-Client-Key"
MEDIATOR_KEY_HEADER = "X-DPI-Mediator-Key"
ADMIN_KEY_HEADER = "X-DPI-Admin-Key"
DEFAULT_SECRET = "dpi-sandbox-development-secret"


def _secret(secret: str | None) -> bytes:
    return (secret or os.environ.get("DPI_SANDBOX_SECRET") or DEFAULT_SECRET).encode()


def _derive(label: str, secret: str | None) -> str:
    return hmac.new(_secret(secret), label.encode(), hashlib.sha256).hexdigest()[:40]


def partner_id(member_id: str) -> str:
    """The ID system's partner id for a member subsystem: `DPI/GOV/MOH/hmis` -> `moh-hmis`."""
    parts = member_id.split("/")
    if len(parts) != 4 or not all(parts):
        raise ValueError(f"not a subsystem id (INSTANCE/CLASS/MEMBER/SUBSYSTEM): {member_id!r}")
    return f"{parts[2]}-{parts[3]}".lower()


def client_key(member_id: str, secret: str | None = None) -> str:
    """The key a client subsystem presents to the mediator in `X-DPI-Client-Key`."""
    return _derive(f"client:{member_id}", secret)


def mediator_key(secret: str | None = None) -> str:
    """The mediator's own key, for endpoints only it may call (`X-DPI-Mediator-Key`)."""
    return _derive("mediator", secret)


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time equality on bytes: `compare_digest` on non-ASCII `str` raises, not refuses."""
    return hmac.compare_digest(presented.encode(), expected.encode())


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
