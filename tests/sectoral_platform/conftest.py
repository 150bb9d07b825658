"""A fresh sectoral platform per test, seeded with the pilot health configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


@pytest.fixture
def settings(settings_for: Any) -> SectoralSettings:
    result: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings)
    return result


@pytest.fixture
async def client(settings: SectoralSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(settings)) as raw:
        raw.auth = ADMIN
        yield raw
