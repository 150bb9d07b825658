"""What a publication holds: counts only (even from tracker data), a fixed snapshot, any level."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.sectoral_platform.seed.defaults import ADMIN_UID
from tests.sectoral_platform.conftest import (
    ANC1,
    DATA_SET,
    DISTRICT_1,
    DISTRICT_2,
    FACILITIES,
    REGION,
    ROOT,
)

pytestmark = pytest.mark.anyio
URL = "/api/openData/publications"
MEASLES_COUNT = "ChMslDoses1"  # the aggregation job's count of measles doses (tracker events)
DOCUMENT_KEYS = {
    "id", "title", "published", "threshold", "rule", "orgUnit", "orgUnitLevel", "dataElements",
    "periods", "totals", "cellCount", "suppressedCellCount", "totalCount",
    "suppressedTotalCount", "rows", "totalRows",
}  # fmt: skip
ROW_KEYS = {
    "dataElement", "dataElementName", "period", "periodName", "orgUnit", "orgUnitCode",
    "orgUnitName", "value", "suppressed",
}  # fmt: skip


def child(name: str, facility: str, day: str) -> dict[str, Any]:
    return {
        "trackedEntityType": "nEenWmSyUEp",
        "orgUnit": facility,
        "attributes": [
            {"attribute": "w75KJ2mc4zz", "value": name},
            {"attribute": "iESIqZ0R0R0", "value": "2024-01-10"},
        ],
        "enrollments": [
            {
                "program": "IpHINAT79UW",
                "orgUnit": facility,
                "enrolledAt": "2024-01-10",
                "events": [
                    {
                        "programStage": "ZzYYXq4fJie",
                        "orgUnit": facility,
                        "occurredAt": day,
                        "status": "COMPLETED",
                        "dataValues": [{"dataElement": "GQY2lXrypjO", "value": "true"}],
                    }
                ],
            }
        ],
    }


async def test_counts_of_tracker_events_are_published_without_any_individual_data(
    client: httpx.AsyncClient,
) -> None:
    children = [child(f"Zawadi{i}", FACILITIES[0], f"2024-05-0{i}") for i in range(1, 3)]
    children += [child(f"Baraka{i}", FACILITIES[1], f"2024-05-1{i}") for i in range(6)]
    imported = await client.post(
        "/api/tracker", params={"async": "false"}, json={"trackedEntities": children}
    )
    assert imported.status_code == 200, imported.text
    assert (await client.post("/api/tracker/aggregate")).status_code == 200
    answer = await client.post(
        URL,
        json={"dataElements": [MEASLES_COUNT], "periods": ["202405"], "orgUnitLevel": 4},
    )
    assert answer.status_code == 201, answer.text
    document = answer.json()
    assert set(document) == DOCUMENT_KEYS
    assert all(set(row) == ROW_KEYS for row in document["rows"] + document["totalRows"])
    shown = {row["orgUnit"]: row["value"] for row in document["rows"]}
    # 2 children: withheld, so 6 is withheld too (8 - 6 would give the 2 away)
    assert shown == {FACILITIES[0]: None, FACILITIES[1]: None}
    assert [t["value"] for t in document["totalRows"]] == [8]
    events = await client.get(
        "/api/tracker/events", params={"orgUnit": FACILITIES[0], "orgUnitMode": "SELECTED"}
    )
    people = await client.get(
        "/api/tracker/trackedEntities", params={"program": "IpHINAT79UW", "orgUnitMode": "ALL"}
    )
    secrets = [ADMIN_UID, "admin", "Zawadi", "Baraka", "2024-01-10", "2024-05-0"]
    secrets += [e["event"] for e in events.json()["events"]]
    secrets += [p["trackedEntity"] for p in people.json()["trackedEntities"]]
    assert len(secrets) > 6
    for secret in secrets:
        assert secret not in answer.text


async def report(client: httpx.AsyncClient, values: dict[str, int], period: str) -> None:
    rows = [
        {"dataElement": ANC1, "period": period, "orgUnit": ou, "value": str(v)}
        for ou, v in values.items()
    ]
    answer = await client.post("/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": rows})
    assert answer.status_code == 200, answer.text


async def test_a_publication_is_a_snapshot_that_later_reports_do_not_change(
    client: httpx.AsyncClient,
) -> None:
    await report(client, {FACILITIES[0]: 20, FACILITIES[1]: 30}, "202406")
    spec = {"dataElements": [ANC1], "periods": ["202406"], "orgUnitLevel": 4}
    first = (await client.post(URL, json=spec)).json()
    await report(client, {FACILITIES[0]: 2}, "202406")
    again = await client.get(f"{URL}/{first['id']}")
    assert again.json() == first
    second = (await client.post(URL, json=spec)).json()
    assert second["id"] != first["id"]
    assert [r["value"] for r in second["rows"]] == [None, None]
    assert [r["value"] for r in first["rows"]] == [20, 30]
    listed = (await client.get(URL, params={"pageSize": 1})).json()
    assert listed["pager"] == {"page": 1, "pageSize": 1, "total": 2, "pageCount": 2}
    bad_page = await client.get(URL, params={"page": "0"})
    assert bad_page.status_code == 400


async def test_district_level_with_totals_per_region_and_the_country_without_totals(
    client: httpx.AsyncClient,
) -> None:
    await report(client, dict(zip(FACILITIES, (2, 3, 40, 1, 2, 1), strict=True)), "202407")
    spec = {"dataElements": [ANC1], "periods": ["202407"], "orgUnitLevel": 3}
    districts = (await client.post(URL, json=spec)).json()
    # 45 and 4: the region's total would give the 4 away, so the 45 is withheld too
    assert [(r["orgUnit"], r["value"]) for r in districts["rows"]] == [
        (DISTRICT_1, None),
        (DISTRICT_2, None),
    ]
    assert [(t["orgUnit"], t["value"]) for t in districts["totalRows"]] == [(REGION, 49)]
    country = (await client.post(URL, json={**spec, "orgUnitLevel": 1})).json()
    assert [(r["orgUnit"], r["value"]) for r in country["rows"]] == [(ROOT, 49)]
    assert country["totalRows"] == [] and country["totalCount"] == 0
    only = {**spec, "orgUnit": DISTRICT_2, "orgUnitLevel": 4, "totals": False}
    bare = (await client.post(URL, json=only)).json()
    assert [r["value"] for r in bare["rows"]] == [None, None, None]
    assert bare["totalRows"] == [] and bare["totals"] is False
    assert (bare["orgUnit"]["id"], bare["orgUnit"]["code"]) == (DISTRICT_2, "XD-R01-D02")
    assert bare["orgUnit"]["level"] == 3
