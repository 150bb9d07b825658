"""Two health platform replicas on one PostgreSQL database: metadata created, changed or deleted
through one is read the same way on the other within a second (its read model is reloaded), and
a reset through one brings the other back to the seeded metadata."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.conftest import USE_POSTGRES
from tests.sectoral_platform.conftest import ADMIN

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        not USE_POSTGRES,
        reason="replicas share a PostgreSQL database (LISTEN/NOTIFY); runs with "
        "DPI_TEST_DB=postgres",
    ),
]

UID = "MeAsLeS0r01"
ELEMENT = {
    "id": UID,
    "name": "Measles cases",
    "shortName": "Measles cases",
    "code": "HS_MEASLES_REPLICA",
    "valueType": "INTEGER_ZERO_OR_POSITIVE",
    "aggregationType": "SUM",
    "domainType": "AGGREGATE",
}


def wait_listening(*apps: FastAPI) -> None:
    for app in apps:
        listening = kernel_state(app).invalidation.listening
        deadline = time.monotonic() + 5
        while not listening.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)


async def within_a_second(
    client: httpx.AsyncClient, holds: Callable[[httpx.Response], bool], what: str
) -> None:
    began = time.monotonic()
    while not holds(await client.get(f"/api/dataElements/{UID}")):
        assert time.monotonic() - began < 1.0, what


async def test_metadata_written_on_one_replica_is_read_on_the_other(
    settings: SectoralSettings,
) -> None:
    first, second = create_app(settings), create_app(settings)
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        one.auth = two.auth = ADMIN
        wait_listening(first, second)
        assert (await two.get(f"/api/dataElements/{UID}")).status_code == 404

        created = await one.post("/api/metadata", json={"dataElements": [ELEMENT]})
        assert created.status_code == 200, created.text
        await within_a_second(two, lambda r: r.status_code == 200, "not created on the replica")

        renamed = {**ELEMENT, "name": "Measles cases (confirmed)"}
        updated = await two.post("/api/metadata", json={"dataElements": [renamed]})
        assert updated.json()["response"]["stats"]["updated"] == 1, updated.text
        await within_a_second(
            one,
            lambda r: r.json().get("name") == "Measles cases (confirmed)",
            "the rename did not reach the first replica",
        )

        deleted = await one.post(
            "/api/metadata", params={"importStrategy": "DELETE"}, json={"dataElements": [renamed]}
        )
        assert deleted.json()["response"]["stats"]["deleted"] == 1, deleted.text
        await within_a_second(two, lambda r: r.status_code == 404, "not deleted on the replica")

        await two.post("/api/metadata", json={"dataElements": [ELEMENT]})
        await within_a_second(one, lambda r: r.status_code == 200, "not created on the replica")
        reset = await one.post("/admin/reset", headers={"X-DPI-Admin-Key": "dpi-admin"})
        assert reset.status_code == 200, reset.text
        await within_a_second(two, lambda r: r.status_code == 404, "the reset did not reach it")
