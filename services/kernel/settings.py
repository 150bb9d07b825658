"""Settings from the environment: `DPI_*` for the whole sandbox, `DPI_<SERVICE>_*` per service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar, overload

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class ServiceSettings(BaseSettings):
    """Settings every service has; subclass it for a service's own (read as `DPI_<SERVICE>_X`)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service: str = "service"
    database_url: str | None = None
    data_dir: Path = Field(default=Path(".dpi-data"), validation_alias=_env("DPI_DATA_DIR"))
    log_level: str = Field(default="INFO", validation_alias=_env("DPI_LOG_LEVEL"))
    log_format: Literal["json", "text"] = Field(
        default="json", validation_alias=_env("DPI_LOG_FORMAT")
    )
    admin_key: str = Field(default="dpi-admin", validation_alias=_env("DPI_ADMIN_KEY"))
    sandbox_secret: str = Field(
        default="dpi-sandbox-development-secret", validation_alias=_env("DPI_SANDBOX_SECRET")
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=0)  # DPI_<SERVICE>_MAX_BODY_BYTES
    http_timeout: float = Field(default=10.0, validation_alias=_env("DPI_HTTP_TIMEOUT"))
    http_connect_timeout: float = Field(
        default=2.0, validation_alias=_env("DPI_HTTP_CONNECT_TIMEOUT")
    )
    # a directory of pre-built seeded SQLite databases (services/kernel/seedcache.py); unset: off
    seed_cache: str | None = Field(default=None, validation_alias=_env("DPI_SEED_CACHE"))

    def database(self) -> str:
        """The SQLAlchemy URL: `DPI_<SERVICE>_DATABASE_URL`, else a SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{self.service}.db').resolve()}"


S = TypeVar("S", bound=ServiceSettings)


@overload
def load_settings(service: str) -> ServiceSettings: ...
@overload
def load_settings(service: str, cls: type[S]) -> S: ...
def load_settings(service: str, cls: type[ServiceSettings] = ServiceSettings) -> ServiceSettings:
    """Read settings for `service` from the environment (and `.env` in the working directory)."""
    return cls(service=service, _env_prefix=f"DPI_{service.upper()}_", _env_file=".env")
