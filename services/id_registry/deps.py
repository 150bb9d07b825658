"""Dependencies shared by this service's routes: settings, the injectable clock, keyed hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from services.id_registry.settings import IdRegistrySettings
from services.kernel.time import as_utc

Clock = Callable[[], datetime]


def get_settings(request: Request) -> IdRegistrySettings:
    settings: IdRegistrySettings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests inject one), in UTC."""
    clock: Clock = request.app.state.clock
    return as_utc(clock())


SettingsDep = Annotated[IdRegistrySettings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


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
