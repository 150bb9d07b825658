"""Settings of the sectoral platform (`DPI_SECTORAL_PLATFORM_<FIELD>`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.kernel.settings import ServiceSettings


class SectoralSettings(ServiceSettings):
    """The admin password (DHIS2 demo default) and the health configuration of the first start."""

    service: str = "sectoral_platform"
    admin_password: str = "district"
    # the seeded scoped users (sandbox defaults, see docs/sectoral_platform.md)
    officer_password: str = "Officer123!"
    clerk_password: str = "Clerk123!"
    seed_health: bool = True
    facility_size: Literal["pilot", "national", "none"] = "pilot"
    facility_seed: int = 2026
    national_facilities: int = 10_000
    # the ID system as the health partner `moh-hmis` (documented sandbox defaults of id_registry)
    ida_license_key: str = "dpi-sandbox-misp-license-key"
    ida_api_key: str = "moh-hmis-sandbox-key"
    # encrypted and signed IDA envelopes with the partner's published sandbox key (false: plaintext)
    ida_sealed: bool = True
    # pending ID checks are retried this often; their identifiers are sealed with this key
    verify_interval_seconds: float = 10.0
    pending_key: str | None = None
    # org units from the facility registry (through the mediator): at start, and on demand
    facility_sync_on_start: bool = True
    facility_sync_retry_seconds: float = 15.0
    # tracker events -> aggregate data values (0: only by POST /api/tracker/aggregate)
    aggregation_interval_seconds: float = 300.0
    # an `async=true` data value import whose replica gave no heartbeat this long is failed
    value_set_job_lease_seconds: float = Field(default=30.0, gt=0)
    # events: outbox drain interval (0: only by POST /api/events/outbox/drain), civil events in
    drain_interval_seconds: float = 2.0
    subscribe_civil_events: bool = True
    # extensions: secrets at rest (route credentials, encrypted dataStore values), app bundles,
    # Route API targets beyond loopback and the mediator (URL globs, e.g. `https://*.example.org`)
    secrets_key: str | None = None
    app_max_bytes: int = 5 * 1024 * 1024
    app_max_unpacked_bytes: int = 20 * 1024 * 1024
    route_remote_servers_allowed: list[str] = Field(default_factory=list)
