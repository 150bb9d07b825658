"""Tracker reads: org unit modes, attribute filters, paging, the pre-2.41 `instances` key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, DISTRICT_1, DISTRICT_2, FACILITIES, REGION, ROOT
from tests.sectoral_platform.tracker_helpers import (
    BIRTH,
    DOB,
    FIRST_NAME,
    PERSON,
    PROGRAM,
    child,
    sync_import,
)

pytestmark = pytest.mark.anyio
NAMES = ["Abena", "Akosua", "Kwame", "Kojo", "Yaw", "Esi"]


@pytest.fixture(scope="module")
async def reads(
    module_settings: SectoralSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, list[Any]]]:
    """Six children, one per facility (three per district), born a month apart."""
    async with serve_in_process(create_app(module_settings)) as client:
        client.auth = ADMIN
        people = [
            child(ou=ou, first=name, dob=f"2024-0{i + 1}-15")
            for i, (ou, name) in enumerate(zip(FACILITIES, NAMES, strict=True))
        ]
        await sync_import(client, {"trackedEntities": people})
        yield client, people


async def tes(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/api/tracker/trackedEntities", params={"program": PROGRAM, **params}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    found = []
    for te in body["trackedEntities"]:
        found += [a["value"] for a in te["attributes"] if a["attribute"] == FIRST_NAME]
    return sorted(found)


async def test_org_unit_modes(reads: tuple[httpx.AsyncClient, list[Any]]) -> None:
    client, _ = reads
    assert names(await tes(client, orgUnits=FACILITIES[0])) == ["Abena"]
    assert names(await tes(client, orgUnits=f"{FACILITIES[0]},{FACILITIES[3]}")) == [
        "Abena",
        "Kojo",
    ]
    assert names(await tes(client, orgUnits=DISTRICT_1)) == []  # SELECTED is the default
    assert names(await tes(client, orgUnits=DISTRICT_1, orgUnitMode="CHILDREN")) == sorted(
        NAMES[:3]
    )
    assert names(await tes(client, orgUnits=REGION, orgUnitMode="CHILDREN")) == []
    assert names(await tes(client, orgUnits=ROOT, orgUnitMode="DESCENDANTS")) == sorted(NAMES)
    assert names(await tes(client, orgUnits=DISTRICT_2, orgUnitMode="DESCENDANTS")) == sorted(
        NAMES[3:]
    )
    assert names(await tes(client, orgUnitMode="ALL")) == sorted(NAMES)
    assert names(await tes(client, orgUnitMode="ACCESSIBLE")) == sorted(NAMES)
    legacy = await tes(client, orgUnit=f"{FACILITIES[1]};{FACILITIES[2]}")  # pre-2.41 form
    assert names(legacy) == ["Akosua", "Kwame"]
    bad = await client.get(
        "/api/tracker/trackedEntities", params={"program": PROGRAM, "orgUnits": "Unknown0001"}
    )
    assert bad.status_code == 400
    no_scope = await client.get(
        "/api/tracker/trackedEntities", params={"program": PROGRAM, "orgUnitMode": "DESCENDANTS"}
    )
    assert no_scope.status_code == 400


async def test_attribute_filter_operators(reads: tuple[httpx.AsyncClient, list[Any]]) -> None:
    client, _ = reads

    async def match(*filters: str) -> list[str]:
        body = await tes(client, orgUnitMode="ALL", filter=list(filters))
        return names(body)

    assert await match(f"{FIRST_NAME}:eq:kwame") == ["Kwame"]  # case-insensitive
    assert await match(f"{FIRST_NAME}:ne:Kwame") == sorted(set(NAMES) - {"Kwame"})
    assert await match(f"{FIRST_NAME}:like:o") == ["Akosua", "Kojo"]
    assert await match(f"{FIRST_NAME}:sw:k") == ["Kojo", "Kwame"]
    assert await match(f"{FIRST_NAME}:ew:A") == ["Abena", "Akosua"]
    assert await match(f"{FIRST_NAME}:in:yaw;ESI") == ["Esi", "Yaw"]
    assert await match(f"{DOB}:ge:2024-04-15") == ["Esi", "Kojo", "Yaw"]
    assert await match(f"{DOB}:gt:2024-02-15:lt:2024-05-01") == ["Kojo", "Kwame"]
    assert await match(f"{DOB}:le:2024-01-15") == ["Abena"]
    assert await match(f"{DOB}:lt:2024-03-01", f"{FIRST_NAME}:sw:ab") == ["Abena"]
    assert await match(f"{FIRST_NAME}:!null") == sorted(NAMES)
    assert await match(f"{FIRST_NAME}:null") == []
    bad_op = await client.get(
        "/api/tracker/trackedEntities",
        params={"program": PROGRAM, "filter": f"{FIRST_NAME}:near:x"},
    )
    assert bad_op.status_code == 400


async def test_paging_with_and_without_totals(reads: tuple[httpx.AsyncClient, list[Any]]) -> None:
    client, _ = reads
    first = await tes(client, orgUnitMode="ALL", pageSize=4)
    assert first["pager"] == {"page": 1, "pageSize": 4}
    assert first["instances"] == first["trackedEntities"] and len(first["instances"]) == 4
    second = await tes(client, orgUnitMode="ALL", pageSize=4, page=2, totalPages="TRUE")
    assert second["pager"] == {"page": 2, "pageSize": 4, "total": 6, "pageCount": 2}
    assert len(second["trackedEntities"]) == 2
    seen = {t["trackedEntity"] for t in first["trackedEntities"] + second["trackedEntities"]}
    assert len(seen) == 6
    unpaged = await tes(client, orgUnitMode="ALL", paging="false")
    assert "pager" not in unpaged and len(unpaged["trackedEntities"]) == 6
    assert (
        await client.get("/api/tracker/trackedEntities", params={"orgUnitMode": "ALL"})
    ).status_code == 400  # neither program nor type
    by_type = await client.get(
        "/api/tracker/trackedEntities",
        params={"trackedEntityType": PERSON, "orgUnitMode": "ALL", "fields": "trackedEntity"},
    )
    assert all(set(t) == {"trackedEntity"} for t in by_type.json()["trackedEntities"])


async def test_enrollments_and_events(reads: tuple[httpx.AsyncClient, list[Any]]) -> None:
    client, people = reads
    enrollments = await client.get(
        "/api/tracker/enrollments", params={"orgUnits": DISTRICT_2, "orgUnitMode": "DESCENDANTS"}
    )
    body = enrollments.json()
    assert len(body["enrollments"]) == 3 and body["instances"] == body["enrollments"]
    assert {e["trackedEntity"] for e in body["enrollments"]} == {
        p["trackedEntity"] for p in people[3:]
    }
    events = await client.get(
        "/api/tracker/events",
        params={"orgUnit": FACILITIES[0], "program": PROGRAM, "programStage": BIRTH},
    )
    [birth] = events.json()["events"]
    assert birth["trackedEntity"] == people[0]["trackedEntity"]
    assert birth["occurredAt"] == "2024-01-15T00:00:00.000"
    everything = await client.get(
        "/api/tracker/events",
        params={"orgUnit": ROOT, "orgUnitMode": "DESCENDANTS", "totalPages": "true"},
    )
    assert everything.json()["pager"]["total"] == 12
    single = await client.get(f"/api/tracker/events/{birth['event']}")
    assert single.json() == birth
    for kind in ("trackedEntities", "enrollments", "events"):
        missing = await client.get(f"/api/tracker/{kind}/Unknown0001")
        assert missing.status_code == 404 and missing.json()["httpStatusCode"] == 404
    versioned = await client.get(f"/api/42/tracker/events/{birth['event']}.json")
    assert versioned.json()["event"] == birth["event"]
