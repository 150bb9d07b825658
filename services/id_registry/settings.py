"""Settings of the ID system, read as `DPI_ID_REGISTRY_<FIELD>`."""

from __future__ import annotations

import hashlib
import hmac

from pydantic import Field

from services.kernel.settings import ServiceSettings

DEFAULT_MISP_LICENSE_KEY = "dpi-sandbox-misp-license-key"


def default_partner_api_key(partner_id: str) -> str:
    """The documented, fixed sandbox API key of a seeded partner."""
    return f"{partner_id}-sandbox-key"


class IdRegistrySettings(ServiceSettings):
    """What an operator may tune: keys, secrets, OTP and VID lifetimes, seeding, publishing."""

    misp_license_key: str = DEFAULT_MISP_LICENSE_KEY
    partner_api_keys: dict[str, str] = Field(default_factory=dict)
    psut_secret: str | None = None
    otp_ttl_seconds: int = 180
    # IDA-MLC-001: how far `requestTime` may be from the ID system's clock, either way
    request_time_window_seconds: int = Field(default=600, ge=1)
    temporary_vid_minutes: int = 30
    temporary_vid_transactions: int = 1
    seed_population: int = 300
    seed_random_seed: int = 20260101
    seed_on_start: bool = True
    publish_events: bool = True
    # the most people one `POST /v1/identities/batch` may enrol (one transaction)
    max_batch_enrolments: int = Field(default=1000, ge=1, le=100_000)
    subscribe_civil_events: bool = True
    drain_interval_seconds: float = 2.0
    drain_max_backoff_seconds: float = 30.0

    def token_secret(self) -> bytes:
        """The PSUT key: set explicitly, else derived from the sandbox secret."""
        if self.psut_secret:
            return self.psut_secret.encode()
        return hmac.new(self.sandbox_secret.encode(), b"id_registry:psut", hashlib.sha256).digest()

    def api_key_for(self, partner_id: str) -> str:
        return self.partner_api_keys.get(partner_id) or default_partner_api_key(partner_id)
