"""Analytics totals against sums computed independently from the imported rows."""

import random
from collections import defaultdict
from typing import Any

import httpx
import pytest

from services.sectoral_platform.seed.orgunits import uid_for
from tests.sectoral_platform.conftest import (
    ANC1,
    ANC4,
    BCG,
    BEDS,
    COC,
    DATA_SET,
    DISTRICT_1,
    DISTRICT_2,
    DISTRICT_OF,
    FACILITIES,
    REGION,
    ROOT,
    STOCKOUT,
)

pytestmark = pytest.mark.anyio
MONTHS = [f"2024{m:02d}" for m in range(1, 13)]


Rows = list[tuple[str, str, str, float]]


@pytest.fixture(scope="module")
async def data(shared_client: httpx.AsyncClient) -> Rows:
    """The module's tests share one database, loaded once."""
    return await load(shared_client)


async def load(client: httpx.AsyncClient) -> Rows:
    """Random values (seeded) for three elements, every facility and month of 2024."""
    rng = random.Random(42)
    rows: list[tuple[str, str, str, float]] = []
    payload: list[dict[str, Any]] = []
    for facility in FACILITIES:
        for month in MONTHS:
            for de in (ANC1, ANC4, BEDS):
                value = rng.randint(1, 60) if de != BEDS else round(rng.uniform(5, 40), 1)
                rows.append((de, month, facility, float(value)))
                payload.append(
                    {"dataElement": de, "period": month, "orgUnit": facility, "value": str(value)}
                )
    response = await client.post(
        "/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": payload}
    )
    assert response.status_code == 200, response.text
    assert response.json()["response"]["importCount"]["imported"] == len(rows)
    return rows


async def analytics(
    client: httpx.AsyncClient, *dims: str, filters: tuple[str, ...] = (), **extra: str
) -> dict[str, Any]:
    params: list[tuple[str, Any]] = (
        [("dimension", d) for d in dims] + [("filter", f) for f in filters] + list(extra.items())
    )
    response = await client.get("/api/analytics", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def table(body: dict[str, Any]) -> dict[tuple[str, ...], float]:
    return {tuple(row[:-1]): float(row[-1]) for row in body["rows"]}


async def test_response_shape(shared_client: httpx.AsyncClient, data: Rows) -> None:
    client = shared_client
    body = await analytics(client, f"dx:{ANC1}", "pe:2024Q1", f"ou:{ROOT}")
    assert [h["name"] for h in body["headers"]] == ["dx", "pe", "ou", "value"]
    assert body["headers"][0] == {
        "name": "dx",
        "column": "Data",
        "valueType": "TEXT",
        "type": "java.lang.String",
        "hidden": False,
        "meta": True,
    }
    assert body["headers"][3] == {
        "name": "value",
        "column": "Value",
        "valueType": "NUMBER",
        "type": "java.lang.Double",
        "hidden": False,
        "meta": False,
    }
    assert body["width"] == body["headerWidth"] == 4 and body["height"] == len(body["rows"]) == 1
    assert all(isinstance(cell, str) for cell in body["rows"][0])
    items = body["metaData"]["items"]
    assert (
        items[ANC1]["name"] == "ANC 1st visit" and items["2024Q1"]["name"] == "January - March 2024"
    )
    assert items[ROOT]["name"] == "Republic of Zanora"
    # co: the element's option combos, `default` included (as DHIS2 lists them)
    assert body["metaData"]["dimensions"] == {
        "dx": [ANC1],
        "pe": ["2024Q1"],
        "ou": [ROOT],
        "co": [COC],
    }
    assert items[COC] == {"name": "default"}


async def test_totals_by_month_level_and_quarter_match_independent_sums(
    client: httpx.AsyncClient,
) -> None:
    rows = await load(client)
    expected: dict[tuple[str, ...], float] = defaultdict(float)
    for de, month, facility, value in rows:
        if de == BEDS:
            continue
        quarter = f"2024Q{(int(month[4:]) - 1) // 3 + 1}"
        for unit in (DISTRICT_OF[facility],):  # the uid is the boundary of LEVEL-3, not an item
            expected[(de, month, unit)] += value
            expected[(de, quarter, unit)] += value
            expected[(de, "2024", unit)] += value
    body = await analytics(
        client,
        f"dx:{ANC1};{ANC4}",
        "pe:" + ";".join([*MONTHS, "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2024"]),
        f"ou:{ROOT};LEVEL-3",
    )
    got = table(body)
    assert got == pytest.approx(dict(expected))
    assert body["metaData"]["dimensions"]["ou"] == [DISTRICT_1, DISTRICT_2]
    national = table(await analytics(client, f"dx:{ANC1}", "pe:2024", f"ou:{ROOT}"))
    assert national[(ANC1, "2024", ROOT)] == pytest.approx(
        sum(v for de, _m, _f, v in rows if de == ANC1)
    )
    assert body["metaData"]["items"]["LEVEL-3"]["name"] == "District"


async def test_filters_aggregate_over_their_items(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client, rows = shared_client, data
    first_half = {m for m in MONTHS[:6]}
    expected = sum(
        v for de, m, f, v in rows if de == ANC1 and m in first_half and DISTRICT_OF[f] == DISTRICT_2
    )
    body = await analytics(client, f"dx:{ANC1}", filters=("pe:2024Q1;2024Q2", f"ou:{DISTRICT_2}"))
    assert [h["name"] for h in body["headers"]] == ["dx", "value"]
    assert table(body) == {(ANC1,): pytest.approx(expected)}


async def test_aggregation_type_average_sum_org_unit(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client, rows = shared_client, data
    per_month: dict[str, float] = defaultdict(float)
    for de, month, _f, value in rows:
        if de == BEDS and month in MONTHS[:3]:
            per_month[month] += value
    body = await analytics(client, f"dx:{BEDS}", "pe:2024Q1", f"ou:{ROOT}")
    assert float(body["rows"][0][-1]) == pytest.approx(sum(per_month.values()) / 3, abs=0.01)


async def test_indicator_from_expression(shared_client: httpx.AsyncClient, data: Rows) -> None:
    client, rows = shared_client, data
    anc1 = sum(v for de, m, _f, v in rows if de == ANC1 and m == "202403")
    anc4 = sum(v for de, m, _f, v in rows if de == ANC4 and m == "202403")
    indicators = (
        await client.get("/api/indicators", params={"filter": "code:eq:IND_ANC_DROPOUT"})
    ).json()
    uid = indicators["indicators"][0]["id"]
    body = await analytics(client, f"dx:{uid}", "pe:202403", f"ou:{ROOT}")
    assert float(body["rows"][0][-1]) == pytest.approx(round((anc1 - anc4) / anc1 * 100, 1))


async def test_relative_periods_and_user_org_units(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client, rows = shared_client, data
    body = await analytics(
        client,
        f"dx:{ANC1}",
        "pe:LAST_4_QUARTERS",
        "ou:USER_ORGUNIT_CHILDREN",
        relativePeriodDate="2025-02-10",
    )
    assert body["metaData"]["dimensions"]["pe"] == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    assert body["metaData"]["dimensions"]["ou"] == [REGION]
    assert sum(float(r[-1]) for r in body["rows"]) == pytest.approx(
        sum(v for de, *_r, v in rows if de == ANC1)
    )
    mine = await analytics(client, f"dx:{ANC1}", "pe:2024", "ou:USER_ORGUNIT")
    assert mine["rows"][0][2] == ROOT
    facilities = await analytics(client, f"dx:{ANC1}", "pe:202401", f"ou:{DISTRICT_1};LEVEL-4")
    assert sorted(r[2] for r in facilities["rows"]) == sorted(FACILITIES[:3])


async def test_booleans_count_trues_and_empty_results(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client = shared_client
    payload = [
        {"dataElement": STOCKOUT, "period": "202405", "orgUnit": f, "value": v}
        for f, v in zip(
            FACILITIES, ["true", "false", "true", "true", "false", "false"], strict=True
        )
    ]
    await client.post("/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": payload})
    body = await analytics(client, f"dx:{STOCKOUT}", "pe:202405", f"ou:{ROOT}")
    assert body["rows"] == [[STOCKOUT, "202405", ROOT, "3"]]
    nothing = await analytics(client, f"dx:{BCG}", "pe:202405", f"ou:{ROOT}")
    assert nothing["rows"] == [] and nothing["height"] == 0


async def test_new_data_is_visible_immediately(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client = shared_client
    facility = uid_for("XD-R01-D02-F002")
    await client.post(
        "/api/dataValues", params={"de": BCG, "pe": "202407", "ou": facility, "value": "17"}
    )
    body = await analytics(client, f"dx:{BCG}", "pe:2024", f"ou:{ROOT}")
    assert body["rows"] == [[BCG, "2024", ROOT, "17"]]


INVALID: list[tuple[list[tuple[str, Any]], str]] = [
    ([], "E7101"),
    ([("dimension", "pe:2024"), ("dimension", f"ou:{ROOT}")], "E7102"),
    ([("dimension", f"dx:{ANC1}"), ("dimension", f"ou:{ROOT}")], "E7104"),
    (
        [("dimension", f"dx:{ANC1}"), ("filter", f"dx:{ANC4}"), ("dimension", "pe:2024")],
        "E7103",
    ),
    ([("dimension", "dx:NoSuchThing"), ("dimension", "pe:2024")], "E7124"),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024M13")], "E7124"),
    (
        [
            ("dimension", f"dx:{ANC1}"),
            ("dimension", "pe:2024"),
            ("dimension", "ou:Nowhere1234"),
        ],
        "E7143",
    ),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("dimension", "zz:a")], "E7125"),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:")], "E7124"),
]


async def test_invalid_queries_are_409_with_e71_codes(
    shared_client: httpx.AsyncClient, data: Rows
) -> None:
    client = shared_client
    for params, code in INVALID:
        response = await client.get("/api/analytics.json", params=params)
        assert response.status_code == 409, response.text
        assert response.json()["errorCode"] == code and response.json()["status"] == "ERROR"


async def test_totals_follow_updates_deletes_and_moved_org_units(client: httpx.AsyncClient) -> None:
    """The district-level rollup stays equal to the values it summarises through every write."""
    moving = FACILITIES[0]

    async def total(unit: str, de: str = ANC1) -> str | None:
        body = await analytics(client, f"dx:{de}", "pe:2024", f"ou:{unit}")
        return body["rows"][0][-1] if body["rows"] else None

    for facility, value in zip(FACILITIES, (5, 6, 7, 8, 9, 10), strict=True):
        await client.post(
            "/api/dataValues", params={"de": ANC1, "pe": "202406", "ou": facility, "value": value}
        )
    assert (await total(ROOT), await total(DISTRICT_1), await total(DISTRICT_2)) == (
        "45",
        "18",
        "27",
    )
    await client.post(
        "/api/dataValues", params={"de": ANC1, "pe": "202406", "ou": moving, "value": "50"}
    )
    assert (await total(ROOT), await total(DISTRICT_1)) == ("90", "63")
    await client.post(
        "/api/dataValueSets",
        params={"importStrategy": "DELETE"},
        json={"dataValues": [{"dataElement": ANC1, "period": "202406", "orgUnit": FACILITIES[1]}]},
    )
    assert (await total(ROOT), await total(DISTRICT_1)) == ("84", "57")
    unit = (
        await client.get(f"/api/organisationUnits/{moving}", params={"fields": ":owner"})
    ).json()
    unit["parent"] = {"id": DISTRICT_2}
    moved = await client.put(f"/api/organisationUnits/{moving}", json=unit)
    assert moved.status_code == 200, moved.text
    assert (await total(DISTRICT_1), await total(DISTRICT_2), await total(ROOT)) == (
        "7",
        "77",
        "84",
    )
    level4 = await analytics(client, f"dx:{ANC1}", "pe:202406", f"ou:{DISTRICT_2};LEVEL-4")
    assert sorted(r[2] for r in level4["rows"]) == sorted([moving, *FACILITIES[3:]])
