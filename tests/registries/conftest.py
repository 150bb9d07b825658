"""Fixtures for the registries tests: an app per test, and one national facility list per module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.db import Database
from services.kernel.testing import serve_in_process, serve_on_loopback
from services.registries.base import Base
from services.registries.facilities.generator import size_for
from services.registries.facilities.service import seed
from services.registries.main import create_app
from services.registries.settings import SANDBOX_API_KEY, RegistriesSettings
from tests.conftest import scratch_database

CLIENT = "DPI/GOV/CRVS/registries"  # a direct call acts as the API key's owner
HEADERS = {"Authorization": SANDBOX_API_KEY, "Information-Mediator-Client": CLIENT}


def mediated(client: str, **statements: str) -> dict[str, str]:
    """The headers of a call the mediator forwarded for `client` (plus `X-Road-UserId` etc.)."""
    return {
        "Authorization": SANDBOX_API_KEY,
        "X-Road-Client": client,
        MEDIATOR_KEY_HEADER: mediator_key(),
        **statements,
    }


MakeSettings = Callable[..., RegistriesSettings]


@pytest.fixture
def make_settings(settings_for: Callable[..., Any]) -> MakeSettings:
    """Settings on a fresh database; the drainer is off unless a test turns it on."""

    def make(**overrides: Any) -> RegistriesSettings:
        values: dict[str, Any] = {"outbox_enabled": False, **overrides}
        settings: RegistriesSettings = settings_for("registries", RegistriesSettings, **values)
        return settings

    return make


@pytest.fixture
async def client(make_settings: MakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(make_settings())) as http:
        yield http


def module_database(
    tmp_path_factory: pytest.TempPathFactory, label: str, size: str
) -> Iterator[str]:
    """A database for a whole test module (fresh databases cost seconds on PostgreSQL)."""
    sqlite_file = tmp_path_factory.mktemp(label) / "registries.db"
    with scratch_database(f"registries_{label}", sqlite_file) as url:
        database = Database(url, Base.metadata)
        database.create_all()
        with database.session() as session:
            seed(session, size=size_for(size), seed_value=2026)
        database.dispose()
        yield url


@pytest.fixture(scope="module")
def national_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated national list (10,000 facilities), made once per module."""
    yield from module_database(tmp_path_factory, "national", "national")


@pytest.fixture(scope="module")
def shared_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One pilot database for a module whose tests keep to their own registries."""
    yield from module_database(tmp_path_factory, "shared", "pilot")


@pytest.fixture
async def shared_client(shared_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = RegistriesSettings(
        database_url=shared_url, data_dir=tmp_path, log_format="text", outbox_enabled=False
    )
    async with serve_in_process(create_app(settings)) as http:
        yield http


@pytest.fixture
def national_settings(national_url: str, tmp_path: Path) -> RegistriesSettings:
    return RegistriesSettings(
        database_url=national_url,
        data_dir=tmp_path,
        log_format="text",
        facility_size="national",
        outbox_enabled=False,
    )


@pytest.fixture
def live_base(national_settings: RegistriesSettings) -> Iterator[str]:
    """The FHIR base of the app on a real loopback socket, for the synchronous `fhirclient`."""
    with serve_on_loopback(create_app(national_settings), deadline=30) as url:
        yield f"{url}/fhir/"
