"""The OpenID provider: settings, issuer URLs, signing key, and the IDA state a login shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic_settings import BaseSettings, SettingsConfigDict

from services.id_registry.controls.service import ExpectationCache
from services.id_registry.ida.people import PersonCache
from services.id_registry.oidc.keys import KeyHolder
from services.id_registry.partners.service import PartnerCache
from services.kernel.topology import service_url


class OidcSettings(BaseSettings):
    """`DPI_ID_REGISTRY_OIDC_<FIELD>`; the issuer defaults to the service's own URL."""

    model_config = SettingsConfigDict(
        env_prefix="DPI_ID_REGISTRY_OIDC_", env_file=".env", extra="ignore"
    )

    issuer: str | None = None
    login_ttl_seconds: int = 600
    code_ttl_seconds: int = 60
    access_token_ttl_seconds: int = 3600
    id_token_ttl_seconds: int = 3600


@dataclass(frozen=True, slots=True)
class IdaAccess:
    """The IDA state a login shares with `/idauthentication/...` (caches, PSUT secret)."""

    secret: bytes
    people: PersonCache
    recorded_tokens: set[str]
    partners: PartnerCache
    expectations: ExpectationCache
    otp_ttl_seconds: int


@dataclass(slots=True)
class Oidc:
    settings: OidcSettings
    issuer: str
    keys: KeyHolder = field(default_factory=KeyHolder)

    @classmethod
    def from_environment(cls) -> Oidc:
        """`DPI_ID_REGISTRY_OIDC_*`; the issuer defaults to the service's own URL."""
        settings = OidcSettings()
        return cls(
            settings=settings, issuer=(settings.issuer or service_url("id_registry")).rstrip("/")
        )

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth/v2/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/oidc/userinfo"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"
