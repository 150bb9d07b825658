"""The service's hashes: keyed (PSUTs, audit references) and of stored secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache


@lru_cache(maxsize=200_000)
def psut(secret: bytes, *, uin: str, partner_id: str) -> str:
    """Partner-specific user token: a keyed hash of (UIN, partner), unlinkable without the key."""
    digest = hmac.new(secret, f"psut|{uin}|{partner_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@lru_cache(maxsize=200_000)
def reference(secret: bytes, value: str) -> str:
    """A short keyed hash for audit rows: correlates attempts without storing the identifier."""
    return hmac.new(secret, f"ref|{value}".encode(), hashlib.sha256).hexdigest()[:20]


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@lru_cache(maxsize=1024)
def presented_hash(value: str) -> str:
    """`hash_secret` of a credential presented with every request (a partner's API key in the
    IDA path), computed once per distinct value."""
    return hash_secret(value)
