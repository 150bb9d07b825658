"""Request dependencies shared by this service's routes: the runtime, settings, the clock."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from services.id_registry.runtime import IdRegistryRuntime
from services.id_registry.settings import IdRegistrySettings
from services.kernel.runtime import runtime_getter, runtime_of
from services.kernel.time import as_utc


def get_settings(request: Request) -> IdRegistrySettings:
    return runtime_of(request.app, IdRegistryRuntime).settings


def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests inject one), in UTC."""
    return as_utc(runtime_of(request.app, IdRegistryRuntime).clock())


RuntimeDep = Annotated[IdRegistryRuntime, Depends(runtime_getter(IdRegistryRuntime))]
SettingsDep = Annotated[IdRegistrySettings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
