"""Two health platform replicas on one PostgreSQL database: two facility syncs at once run one
after the other, each from what the one before stored, an async data value import accepted by
one is reported by the other, and a metadata write through one is read by the next request to
the other (the store itself: `test_metadata_replicas.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from services.sectoral_platform.facility_registry.sync import FacilitySync
from services.sectoral_platform.main import create_app
from services.sectoral_platform.seed.orgunits import uid_for
from services.sectoral_platform.settings import SectoralSettings
from tests.conftest import SHARED_POSTGRES
from tests.sectoral_platform.conftest import ADMIN, ANC1, FACILITIES
from tests.sectoral_platform.wiring import ID_ADMIN, dpi
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]


def replicas(
    settings: SectoralSettings,
) -> AbstractAsyncContextManager[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two replicas of the health platform, each with a client signed in as the admin."""
    return two_replicas(create_app(settings), create_app(settings), auth=ADMIN)


async def test_replicas_sync_facilities_one_at_a_time(
    settings: SectoralSettings, settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dpi(settings_for, monkeypatch, registries=True) as services:
        assert services.registries is not None
        async with (
            replicas(settings) as (one, two),
            httpx.AsyncClient(base_url=services.registries, headers=ID_ADMIN) as registry,
        ):
            added = await registry.post(
                "/admin/facilities",
                json={"name": "Replica Clinic", "district": "XD-R01-D02", "type": "clinic"},
            )
            assert added.status_code in (200, 201), added.text
            code = added.json().get("code") or added.json()["id"]
            # each sync waits (up to a second) for the other before it applies what it fetched:
            # without the claim both would have fetched the new clinic and would create it
            meeting = threading.Barrier(2, timeout=1.0)
            apply = FacilitySync._apply

            def apply_together(sync: FacilitySync, locations: list[Any], cursor: Any) -> Any:
                with contextlib.suppress(threading.BrokenBarrierError):
                    meeting.wait()
                return apply(sync, locations, cursor)

            monkeypatch.setattr(FacilitySync, "_apply", apply_together)
            answers = await asyncio.gather(
                one.post("/api/facilityRegistry/sync"), two.post("/api/facilityRegistry/sync")
            )
            assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
            # the second sync starts from the first one's cursor and org units
            assert sorted(a.json()["created"] for a in answers) == [0, 1]
            for client in (one, two):
                unit = await client.get(f"/api/organisationUnits/{uid_for(code)}")
                assert unit.json()["name"] == "Replica Clinic"


async def test_an_async_import_accepted_by_one_replica_is_reported_by_the_other(
    settings: SectoralSettings,
) -> None:
    async with replicas(settings) as (one, two):
        accepted = await one.post(
            "/api/dataValueSets",
            content=f"{ANC1},202401,{FACILITIES[0]},,,9\n",
            headers={"Content-Type": "application/csv"},
            params={"firstRowIsHeader": "false", "async": "true"},
        )
        assert accepted.status_code == 200, accepted.text
        job = accepted.json()["response"]
        deadline = time.monotonic() + 10
        while not (notes := (await two.get(job["relativeNotifierEndpoint"])).json())[0][
            "completed"
        ]:
            assert time.monotonic() < deadline, notes
        assert notes[0]["message"] == "Import done"
        summary = await two.get(f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}")
        assert summary.json()["importCount"]["imported"] == 1


async def test_a_metadata_write_through_one_replica_is_read_by_the_next_request_to_the_other(
    settings: SectoralSettings,
) -> None:
    async with replicas(settings) as (one, two):
        for n in range(20):  # each time the other's very next request, not a poll
            writer, reader = (one, two) if n % 2 == 0 else (two, one)
            uid = f"RepConst{n:03d}"
            constant = {"id": uid, "name": f"Replica {n}", "shortName": f"R{n}", "value": n}
            written = await writer.post("/api/metadata", json={"constants": [constant]})
            assert written.status_code == 200, written.text
            read = await reader.get(f"/api/constants/{uid}", params={"fields": "id,value"})
            assert read.status_code == 200, (n, read.text)
            assert read.json() == {"id": uid, "value": n}
            deleted = await reader.delete(f"/api/constants/{uid}")
            assert deleted.status_code == 200, deleted.text
            assert (await writer.get(f"/api/constants/{uid}")).status_code == 404, n


async def test_a_reset_through_one_replica_is_served_by_the_other(
    settings: SectoralSettings,
) -> None:
    async with replicas(settings) as (one, two):
        created = await one.post(
            "/api/dataElements",
            json={"id": "DeReset0001", "name": "Reset me", "shortName": "Reset me",
                  "valueType": "NUMBER", "domainType": "AGGREGATE", "aggregationType": "SUM"},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        assert (await two.get("/api/dataElements/DeReset0001")).status_code == 200
        reset = await one.post("/admin/reset", headers={"X-DPI-Admin-Key": settings.admin_key})
        assert reset.status_code == 200, reset.text
        for client in (two, one):  # each reads the metadata again before its next request
            assert (await client.get("/api/dataElements/DeReset0001")).status_code == 404
            names = await client.get("/api/dataElements", params={"filter": "name:eq:Reset me"})
            assert names.json()["dataElements"] == []
