"""The consent service's own settings (`DPI_CONSENT_<FIELD>`)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings

DEFAULT_ORG_API_KEY = "dpi-consent-org-key"


class ConsentSettings(ServiceSettings):
    """Organisation API key, receipt signing identity and background-work intervals."""

    service: str = "consent"
    org_api_key: str = DEFAULT_ORG_API_KEY
    jurisdiction: str = "DPI Sandbox"
    controller_name: str = "Data Protection Authority (sandbox)"
    controller_url: str = "https://dpi-sandbox.example/dpa"
    policy_url: str = "https://dpi-sandbox.example/dpa/data-sharing-policy/v1"
    seed: bool = True
    webhook_interval: float = 1.0
    webhook_max_attempts: int = 8
