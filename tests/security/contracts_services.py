"""Every service wired as its tests wire it (fresh database, quiet background work), with the
credentials that reach behind its auth."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.kernel.credentials import client_key, mediator_key
from services.registries.settings import SANDBOX_API_KEY
from services.sectoral_platform.settings import SectoralSettings

ADMIN_KEY = "dpi-admin"
ORG_KEY = "contracts-org-key"
HEALTH = "DPI/GOV/MOH/hmis"


@dataclass(frozen=True)
class Wiring:
    """How to build a service on a database URL, and who may call it."""

    name: str
    build: Callable[[str, Path], FastAPI]
    credentials: dict[str, str] = field(default_factory=dict)


def _local(url: str, data: Path) -> dict[str, Any]:
    """What every service's test settings share: its database, its data folder, text logs."""
    return {"database_url": url, "data_dir": data, "log_format": "text"}


def _consent(url: str, data: Path) -> FastAPI:
    from services.consent.main import create_app
    from services.consent.settings import ConsentSettings

    return create_app(
        ConsentSettings(**_local(url, data), org_api_key=ORG_KEY, webhook_interval=3600)
    )


def _id_registry(url: str, data: Path) -> FastAPI:
    from services.id_registry.main import create_app
    from services.id_registry.settings import IdRegistrySettings

    settings = IdRegistrySettings(
        **_local(url, data), service="id_registry", seed_population=8, publish_events=False
    )
    return create_app(settings, run_drainer=False, configure_logs=False)


def _interop(url: str, data: Path) -> FastAPI:
    from services.interop_layer.main import create_app
    from services.interop_layer.settings import InteropSettings
    from tests.interop_layer.support import FakeDecider, FakeExchanger

    settings = InteropSettings(**_local(url, data), provider_read_timeout=2.0)
    return create_app(
        settings,
        token_exchanger=FakeExchanger({}, inactive=set()),
        decision_client=FakeDecider(set()),
    )


def _registries(url: str, data: Path) -> FastAPI:
    from services.registries.main import create_app
    from services.registries.settings import RegistriesSettings

    return create_app(RegistriesSettings(**_local(url, data), outbox_enabled=False))


def _sectoral(url: str, data: Path) -> FastAPI:
    from services.sectoral_platform.main import create_app

    settings = SectoralSettings(
        **_local(url, data),
        facility_sync_on_start=False,
        subscribe_civil_events=False,
        drain_interval_seconds=0,
        aggregation_interval_seconds=0,
    )
    return create_app(settings)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


SERVICES = {
    "consent": Wiring(
        "consent",
        _consent,
        {
            "Authorization": f"ApiKey {ORG_KEY}",
            "X-DPI-Mediator-Key": mediator_key(),
            "X-DPI-Admin-Key": ADMIN_KEY,
        },
    ),
    "id_registry": Wiring("id_registry", _id_registry, {"X-DPI-Admin-Key": ADMIN_KEY}),
    "interop_layer": Wiring(
        "interop_layer",
        _interop,
        {
            "X-Road-Client": HEALTH,
            "X-DPI-Client-Key": client_key(HEALTH),
            "X-DPI-Admin-Key": ADMIN_KEY,
        },
    ),
    "registries": Wiring(
        "registries",
        _registries,
        {
            "Authorization": SANDBOX_API_KEY,
            "Information-Mediator-Client": "DPI/GOV/CRVS/registries",  # the key's owner
            "X-DPI-Admin-Key": ADMIN_KEY,
        },
    ),
    "sectoral_platform": Wiring(
        "sectoral_platform", _sectoral, {"Authorization": _basic("admin", "district")}
    ),
}
