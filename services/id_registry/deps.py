"""Request dependencies shared by this service's routes: settings, the injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
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
