"""A fresh sectoral platform per test, seeded with the pilot health configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.seed.orgunits import uid_for
from services.sectoral_platform.settings import SectoralSettings

ADMIN = ("admin", "district")
DATA_SET = "QX4ZTUbOt3a"
ANC1 = "u8jzPde0Igx"
ANC4 = "Ld6GncfBAep"
BCG = "L8dKLzdocJ2"
BEDS = "fKtHF4vUCsM"
STOCKOUT = "ehGAkWvj7FA"
LEVEL = "DwkNhFdnXsi"
COC = "HllvX50cXC0"
ROOT = uid_for("XD")
REGION = uid_for("XD-R01")
DISTRICT_1 = uid_for("XD-R01-D01")
DISTRICT_2 = uid_for("XD-R01-D02")
FACILITIES = [uid_for(f"XD-R01-D01-F00{i}") for i in (1, 2, 3)] + [
    uid_for(f"XD-R01-D02-F00{i}") for i in (1, 2, 3)
]
DISTRICT_OF = {f: DISTRICT_1 for f in FACILITIES[:3]} | {f: DISTRICT_2 for f in FACILITIES[3:]}


# background work that would reach out to other services stays off unless a test turns it on
QUIET: dict[str, Any] = {
    "facility_sync_on_start": False,
    "subscribe_civil_events": False,
    "drain_interval_seconds": 0,
    "aggregation_interval_seconds": 0,
}


@pytest.fixture
def settings(settings_for: Any) -> SectoralSettings:
    result: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    return result


@pytest.fixture
async def client(settings: SectoralSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(settings)) as raw:
        raw.auth = ADMIN
        yield raw


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SectoralSettings]:
    """One database for a whole module of read-only tests (a fresh database per test is what
    costs most on PostgreSQL)."""
    from tests import conftest as root

    tmp = tmp_path_factory.mktemp("sectoral")
    with root.scratch_database("sp", tmp / "shared.db") as url:
        yield SectoralSettings(database_url=url, data_dir=tmp / "data", log_format="text", **QUIET)


@pytest.fixture(scope="module")
async def shared_client(module_settings: SectoralSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(module_settings)) as raw:
        raw.auth = ADMIN
        yield raw
