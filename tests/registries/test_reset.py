"""`POST /admin/reset` on the registries: what a test added is gone, the seeded registries stay."""

from __future__ import annotations

import pytest

from services.kernel.testing import serve_in_process
from services.registries.main import create_app
from tests.registries.conftest import HEADERS, MakeSettings
from tests.registries.test_data_api import People

pytestmark = pytest.mark.anyio
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


async def test_reset_empties_and_seeds_again(make_settings: MakeSettings) -> None:
    async with serve_in_process(create_app(make_settings())) as client:
        births = await client.get("/data/births/1.0", headers=HEADERS)
        assert births.status_code == 200, births.text
        people = People(client)
        await people.make()
        assert await people.ids() == ["P1", "P2", "P3", "P4", "P5"]

        for headers in ({}, {"X-DPI-Admin-Key": "wrong"}):
            refused = await client.post("/admin/reset", headers=headers)
            assert refused.status_code == 401 and "admin" in refused.text.lower()
        assert await people.ids() == ["P1", "P2", "P3", "P4", "P5"]

        for _ in range(2):  # the seeded rows the start kept, restored twice
            reset = await client.post("/admin/reset", headers=ADMIN)
            assert reset.status_code == 200, reset.text
            assert (await people.listing()).status_code == 404
            again = await client.get("/data/births/1.0", headers=HEADERS)
            assert again.status_code == 200 and again.json() == births.json()
            await people.make()
