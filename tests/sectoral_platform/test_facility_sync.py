"""Org units from the facility registry through the mediator: add, rename, move, close."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.seed.orgunits import uid_for
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, DISTRICT_1, DISTRICT_2, QUIET
from tests.sectoral_platform.wiring import ID_ADMIN, dead_url, dpi

pytestmark = pytest.mark.anyio


async def test_sync_adds_renames_moves_with_stable_uids(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    with dpi(settings_for, monkeypatch, registries=True) as services:
        assert services.registries is not None
        async with (
            serve_in_process(create_app(settings)) as platform,
            httpx.AsyncClient(base_url=services.registries, headers=ID_ADMIN) as registry,
        ):
            platform.auth = ADMIN
            first = await platform.post("/api/facilityRegistry/sync")
            assert first.status_code == 200, first.text
            # the platform's generated pilot hierarchy is the registry's own: nothing differs
            assert first.json()["created"] == 0 and first.json()["updated"] == 0
            assert first.json()["received"] == first.json()["unchanged"] == 10
            quiet = (await platform.post("/api/facilityRegistry/sync")).json()
            assert quiet["received"] == 0  # incremental: nothing changed since the cursor
            added = await registry.post(
                "/admin/facilities",
                json={"name": "Tumaini Clinic", "district": "XD-R01-D02", "type": "clinic"},
            )
            assert added.status_code in (200, 201), added.text
            code = added.json().get("code") or added.json()["id"]
            synced = (await platform.post("/api/facilityRegistry/sync")).json()
            assert synced["created"] == 1 and synced["received"] == 1
            uid = uid_for(code)
            unit = (await platform.get(f"/api/organisationUnits/{uid}")).json()
            assert unit["name"] == "Tumaini Clinic" and unit["parent"]["id"] == DISTRICT_2
            assert unit["code"] == code and unit["level"] == 4
            located = (await registry.get(f"/fhir/Location/{code}")).json()["position"]
            assert unit["geometry"]["type"] == "Point"
            assert unit["geometry"]["coordinates"] == [located["longitude"], located["latitude"]]
            await registry.patch(f"/admin/facilities/{code}", json={"name": "Tumaini HC"})
            await registry.patch(f"/admin/facilities/{code}", json={"district": "XD-R01-D01"})
            synced = (await platform.post("/api/facilityRegistry/sync")).json()
            assert synced["updated"] == 1 and synced["created"] == 0
            moved = (await platform.get(f"/api/organisationUnits/{uid}")).json()
            assert moved["id"] == uid and moved["name"] == "Tumaini HC"
            assert moved["parent"]["id"] == DISTRICT_1
            assert moved["path"] == f"/{uid_for('XD')}/{uid_for('XD-R01')}/{DISTRICT_1}/{uid}"
            await registry.patch(f"/admin/facilities/{code}", json={"status": "inactive"})
            await platform.post("/api/facilityRegistry/sync")
            closed = (await platform.get(f"/api/organisationUnits/{uid}")).json()
            assert closed.get("closedDate")
            monkeypatch.setenv("DPI_INTEROP_LAYER_URL", dead_url())
            down = await platform.post("/api/facilityRegistry/sync")
            assert down.status_code == 503 and down.json()["status"] == "ERROR"
