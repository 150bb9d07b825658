"""Sandbox credentials every party can derive, with nothing but the standard library (the `dpi`
tooling imports this without the web stack): partner ids, mediator client keys, header names.

Keys are HMACs of a member id under `DPI_SANDBOX_SECRET`, so the mediator and each service agree
without a key exchange step. They are development credentials: set the secret in any shared setup.
"""

from __future__ import annotations

import hashlib
import hmac
import os

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
