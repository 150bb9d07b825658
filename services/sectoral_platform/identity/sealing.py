"""Sealing of pending ID checks: the UIN/VID waits only encrypted (Fernet, AES-128-CBC + HMAC)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from services.kernel.credentials import DEFAULT_SECRET


def fernet(key: str | None) -> Fernet:
    """The configured key, else one derived from `DPI_SANDBOX_SECRET` (never stored)."""
    secret = (key or os.environ.get("DPI_SANDBOX_SECRET") or DEFAULT_SECRET).encode()
    raw = hmac.new(secret, b"sectoral_platform:pending-verification", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(box: Fernet, request: dict[str, Any]) -> str:
    return box.encrypt(orjson.dumps(request)).decode()


def unseal(box: Fernet, sealed: str) -> dict[str, Any] | None:
    """The request, or None when it cannot be opened (the key changed)."""
    try:
        data: dict[str, Any] = orjson.loads(box.decrypt(sealed.encode()))
    except InvalidToken:
        return None
    return data
