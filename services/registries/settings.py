"""Settings of the registries service (`DPI_REGISTRIES_<FIELD>`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.kernel.settings import ServiceSettings

SANDBOX_API_KEY = "dpi-registries-sandbox-key"


class RegistriesSettings(ServiceSettings):
    """Data API key, facility list size, and the event outbox drainer."""

    service: str = "registries"
    api_key: str = SANDBOX_API_KEY
    api_key_owner: str | None = Field(default=None, pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$")
    facility_size: Literal["pilot", "national", "none"] = "pilot"
    facility_seed: int = 2026
    national_facilities: int = 10_000
    outbox_enabled: bool = True
    outbox_interval: float = 2.0
    outbox_max_backoff: float = 60.0
    outbox_batch: int = 50
    mediator_url: str | None = None
