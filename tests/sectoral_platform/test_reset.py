"""`POST /admin/reset` on the platform: data values and new metadata gone, the seed back."""

from __future__ import annotations

import httpx
import pytest

from tests.sectoral_platform.conftest import ANC1, DATA_SET, FACILITIES
from tests.sectoral_platform.test_data_values import stored, value_set

pytestmark = pytest.mark.anyio
ADMIN_KEY = {"X-DPI-Admin-Key": "dpi-admin"}


async def test_reset_needs_the_admin_key(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"X-DPI-Admin-Key": "wrong"}):
        refused = await client.post("/admin/reset", headers=headers, auth=httpx.Auth())
        assert refused.status_code == 401
        assert refused.json()["httpStatusCode"] == 401


async def test_reset_empties_and_seeds_again(client: httpx.AsyncClient) -> None:
    imported = await client.post(
        "/api/dataValueSets", json=value_set({"dataElement": ANC1, "value": 12})
    )
    assert imported.status_code == 200, imported.text
    assert len(await stored(client)) == 1
    added = await client.post(
        "/api/dataElements",
        json={
            "name": "Reset probe",
            "shortName": "Reset probe",
            "valueType": "NUMBER",
            "domainType": "AGGREGATE",
            "aggregationType": "SUM",
        },
    )
    assert added.status_code in (200, 201), added.text
    probe = added.json()["response"]["uid"]

    reset = await client.post("/admin/reset", headers=ADMIN_KEY, auth=httpx.Auth())
    assert reset.status_code == 200, reset.text

    assert await stored(client) == []
    assert (await client.get(f"/api/dataElements/{probe}")).status_code == 404
    assert (await client.get(f"/api/dataSets/{DATA_SET}")).status_code == 200
    assert (await client.get(f"/api/organisationUnits/{FACILITIES[0]}")).status_code == 200
    assert (await client.get("/api/me")).json()["username"] == "admin"  # the seeded user
    again = await client.post(
        "/api/dataValueSets", json=value_set({"dataElement": ANC1, "value": 3})
    )
    assert again.status_code == 200 and [v["value"] for v in await stored(client)] == ["3"]
    second = await client.post("/admin/reset", headers=ADMIN_KEY, auth=httpx.Auth())
    assert second.status_code == 200, second.text
    assert await stored(client) == []
    assert (await client.get(f"/api/dataElements/{ANC1}")).status_code == 200
    assert (await client.get("/api/me")).json()["username"] == "admin"
