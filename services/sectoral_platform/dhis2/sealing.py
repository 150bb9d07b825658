"""Secrets kept at rest only encrypted (Fernet), under a key derived per purpose."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken

from services.kernel.credentials import DEFAULT_SECRET


def box_for(purpose: str, key: str | None = None) -> Fernet:
    """`key` if configured, else one derived from `DPI_SANDBOX_SECRET`; never stored."""
    secret = (key or os.environ.get("DPI_SANDBOX_SECRET") or DEFAULT_SECRET).encode()
    raw = hmac.new(secret, f"sectoral_platform:{purpose}".encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def open_sealed(box: Fernet, sealed: str) -> str | None:
    """The plain text, or None when the key changed since it was sealed."""
    try:
        return box.decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
