"""Analytics options and outputs: id schemes, meta/data skipping, numerator/denominator columns,
hierarchy meta, aggregation type, measure criteria, start/end dates, CSV, the data value set and
raw data endpoints, and the refusals; expected answers computed from the imported values."""

import csv
import io
from collections import defaultdict
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from services.sectoral_platform.errors import NOT_IMPLEMENTED
from tests.sectoral_platform.conftest import (
    ANC1,
    ANC4,
    DISTRICT_1,
    DISTRICT_2,
    DISTRICT_OF,
    FACILITIES,
    REGION,
    ROOT,
)
from tests.sectoral_platform.test_analytics import MONTHS, Rows, load
from tests.sectoral_platform.test_analytics_params import (
    CASES,
    CASES_DS,
    COC_F,
    COC_M,
    Values,
    seed,
)

pytestmark = pytest.mark.anyio
Data = tuple[Rows, Values]


@pytest.fixture(scope="module")
async def data(shared_client: httpx.AsyncClient) -> Data:
    return await load(shared_client), await seed(shared_client)


async def get(client: httpx.AsyncClient, path: str, *params: tuple[str, str]) -> httpx.Response:
    response = await client.get(path, params=list(params))
    assert response.status_code == 200, response.text
    return response


async def grid(client: httpx.AsyncClient, *params: tuple[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = (await get(client, "/api/analytics", *params)).json()
    return body


def total(rows: Rows, de: str, months: set[str], units: set[str] | None = None) -> float:
    return sum(
        v
        for d, m, f, v in rows
        if d == de and m in months and (units is None or DISTRICT_OF[f] in units)
    )


async def test_output_id_scheme_code_and_name(shared_client: httpx.AsyncClient, data: Data) -> None:
    client, (rows, _) = shared_client, data
    unit = (await get(client, f"/api/organisationUnits/{DISTRICT_1}")).json()
    element = (await get(client, f"/api/dataElements/{ANC1}")).json()
    value = total(rows, ANC1, {"202401"}, {DISTRICT_1})
    params = (
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:202401"),
        ("dimension", f"ou:{DISTRICT_1}"),
    )
    coded = await grid(client, *params, ("outputIdScheme", "CODE"))
    assert coded["rows"] == [[element["code"], "202401", unit["code"], f"{value:g}"]]
    assert coded["metaData"]["dimensions"]["dx"] == [element["code"]]
    assert coded["metaData"]["items"][unit["code"]]["name"] == unit["name"]
    named = await grid(client, *params, ("outputIdScheme", "NAME"))
    assert named["rows"] == [[element["name"], "202401", unit["name"], f"{value:g}"]]


async def test_narrow_output_schemes_and_order(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    units = {
        uid: (await get(client, f"/api/organisationUnits/{uid}")).json()
        for uid in (DISTRICT_1, DISTRICT_2)
    }
    element = (await get(client, f"/api/dataElements/{ANC1}")).json()
    body = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:" + ";".join(MONTHS)),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("outputOrgUnitIdScheme", "CODE"),
        ("order", "DESC"),
    )
    expected = sorted(
        (
            (ANC1, m, units[u]["code"], total(rows, ANC1, {m}, {u}))
            for m in MONTHS
            for u in (DISTRICT_1, DISTRICT_2)
        ),
        key=lambda r: -r[3],
    )
    assert [(*r[:3], float(r[3])) for r in body["rows"]] == expected
    ascending = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:" + ";".join(MONTHS)),
        ("filter", f"ou:{ROOT}"),
        ("outputDataElementIdScheme", "NAME"),
        ("order", "ASC"),
    )
    got = [float(r[-1]) for r in ascending["rows"]]
    assert got == sorted(total(rows, ANC1, {m}) for m in MONTHS)
    assert {r[0] for r in ascending["rows"]} == {element["name"]}


async def test_user_org_unit_replaces_the_users_own(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    body = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("filter", "pe:2024"),
        ("dimension", "ou:USER_ORGUNIT_CHILDREN"),
        ("userOrgUnit", REGION),
    )
    assert {r[1]: float(r[2]) for r in body["rows"]} == {
        d: total(rows, ANC1, set(MONTHS), {d}) for d in (DISTRICT_1, DISTRICT_2)
    }
    wrong = await client.get(
        "/api/analytics",
        params=[
            ("dimension", f"dx:{ANC1}"),
            ("dimension", "pe:2024"),
            ("userOrgUnit", "Nowhere1234"),
        ],
    )
    assert wrong.status_code == 409 and wrong.json()["errorCode"] == "E7143"


async def test_comma_separated_dimensions(shared_client: httpx.AsyncClient, data: Data) -> None:
    client = shared_client
    split = await grid(
        client,
        ("dimension", f"dx:{ANC1};{ANC4}"),
        ("dimension", "pe:2024Q1"),
        ("filter", f"ou:{ROOT}"),
    )
    joined = await grid(
        client, ("dimension", f"dx:{ANC1};{ANC4},pe:2024Q1"), ("filter", f"ou:{ROOT}")
    )
    assert joined["rows"] == split["rows"] and len(split["rows"]) == 2


async def test_skip_meta_skip_data_and_display_property(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client = shared_client
    params = (("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("filter", f"ou:{ROOT}"))
    full = await grid(client, *params)
    no_meta = await grid(client, *params, ("skipMeta", "true"))
    assert no_meta["metaData"] == {} and no_meta["rows"] == full["rows"]
    no_data = await grid(client, *params, ("skipData", "true"))
    assert (
        no_data["rows"] == []
        and no_data["headers"] == []
        and no_data["metaData"] == full["metaData"]
    )
    assert no_data["height"] == no_data["width"] == no_data["headerWidth"] == 0
    element = (await get(client, f"/api/dataElements/{ANC1}")).json()
    short = await grid(client, *params, ("displayProperty", "SHORTNAME"))
    assert short["metaData"]["items"][ANC1]["name"] == element["shortName"] != element["name"]


async def test_include_num_den_for_indicator_and_element(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    dropout = (await get(client, "/api/indicators", ("filter", "code:eq:IND_ANC_DROPOUT"))).json()
    uid = dropout["indicators"][0]["id"]
    anc1 = total(rows, ANC1, {"202405"})
    anc4 = total(rows, ANC4, {"202405"})
    body = await grid(
        client,
        ("dimension", f"dx:{uid};{ANC1}"),
        ("filter", "pe:202405"),
        ("filter", f"ou:{ROOT}"),
        ("includeNumDen", "true"),
    )
    names = [h["name"] for h in body["headers"]]
    assert names == ["dx", "value", "numerator", "denominator", "factor", "multiplier", "divisor"]
    assert body["width"] == body["headerWidth"] == 7
    assert (
        body["headers"][2]["column"] == "Numerator" and body["headers"][2]["valueType"] == "NUMBER"
    )
    by_dx = {row[0]: row[1:] for row in body["rows"]}
    rate = round((anc1 - anc4) / anc1 * 100, 1)
    assert by_dx[uid] == [f"{rate:g}", f"{anc1 - anc4:g}", f"{anc1:g}", "100", "100", "1"]
    assert by_dx[ANC1] == [f"{anc1:g}", "", "", "", "", ""]


async def test_show_hierarchy_and_hierarchy_meta(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client = shared_client
    names = {
        uid: (await get(client, f"/api/organisationUnits/{uid}")).json()["name"]
        for uid in (ROOT, REGION, DISTRICT_1)
    }
    body = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("filter", "pe:2024"),
        ("dimension", f"ou:{DISTRICT_1}"),
        ("showHierarchy", "true"),
        ("hierarchyMeta", "true"),
    )
    assert body["metaData"]["ouNameHierarchy"] == {
        DISTRICT_1: f"/{names[ROOT]}/{names[REGION]}/{names[DISTRICT_1]}"
    }
    assert body["metaData"]["ouHierarchy"] == {DISTRICT_1: f"{ROOT}/{REGION}"}


async def test_aggregation_type_override(shared_client: httpx.AsyncClient, data: Data) -> None:
    client, (rows, _) = shared_client, data
    q1 = {"202401", "202402", "202403"}
    found = [v for d, m, _f, v in rows if d == ANC1 and m in q1]
    per_month: dict[str, float] = defaultdict(float)
    for d, m, _f, v in rows:
        if d == ANC1 and m in q1:
            per_month[m] += v
    expected = {
        "MAX": max(found),
        "MIN": min(found),
        "COUNT": len(found),
        "AVERAGE": round(sum(found) / len(found), 2),
        "AVERAGE_SUM_ORG_UNIT": round(sum(per_month.values()) / 3, 2),
        "LAST": per_month["202403"],
        "SUM": sum(found),
    }
    for aggregation, value in expected.items():
        body = await grid(
            client,
            ("dimension", f"dx:{ANC1}"),
            ("filter", "pe:2024Q1"),
            ("filter", f"ou:{ROOT}"),
            ("aggregationType", aggregation),
        )
        assert float(body["rows"][0][-1]) == pytest.approx(value), aggregation


async def test_measure_criteria_filters_the_aggregated_values(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    cells = {
        (m, unit): total(rows, ANC1, {m}, {unit})
        for m in MONTHS
        for unit in (DISTRICT_1, DISTRICT_2)
    }
    ordered = sorted(cells.values())
    low, high = ordered[5], ordered[-5]
    body = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:" + ";".join(MONTHS)),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("measureCriteria", f"GE:{low};LT:{high}"),
    )
    kept = {(ANC1, m, u): v for (m, u), v in cells.items() if low <= v < high}
    assert {tuple(r[:-1]): float(r[-1]) for r in body["rows"]} == kept
    assert 0 < len(kept) < len(cells)
    exact = await grid(
        client,
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:" + ";".join(MONTHS)),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("measureCriteria", f"EQ:{low}"),
    )
    assert all(float(r[-1]) == low for r in exact["rows"]) and exact["rows"]


async def test_pre_aggregation_criteria_filter_each_stored_value(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    for unit, level_items in ((ROOT, (ROOT,)), (DISTRICT_1, (DISTRICT_1,))):
        body = await grid(
            client,
            ("dimension", f"dx:{ANC1}"),
            ("dimension", "pe:2024Q2"),
            ("dimension", f"ou:{unit}"),
            ("preAggregationMeasureCriteria", "GE:20;LE:45"),
        )
        expected = sum(
            v
            for d, m, f, v in rows
            if d == ANC1
            and m in {"202404", "202405", "202406"}
            and 20 <= v <= 45
            and (unit == ROOT or DISTRICT_OF[f] in level_items)
        )
        assert float(body["rows"][0][-1]) == expected, unit


async def test_include_metadata_details_and_element_option_combos(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client = shared_client
    unit = (await get(client, f"/api/organisationUnits/{DISTRICT_1}")).json()
    body = await grid(
        client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", "pe:202402"),
        ("filter", f"ou:{DISTRICT_1}"),
        ("includeMetadataDetails", "true"),
        ("skipData", "true"),
    )
    items = body["metaData"]["items"]
    assert items["202402"] == {
        "uid": "202402",
        "code": "202402",
        "name": "February 2024",
        "dimensionItemType": "PERIOD",
        "valueType": "TEXT",
        "totalAggregationType": "SUM",
        "startDate": "2024-02-01T00:00:00.000",
        "endDate": "2024-02-29T00:00:00.000",
    }
    assert items[DISTRICT_1] == {
        "uid": DISTRICT_1,
        "code": unit["code"],
        "name": unit["name"],
        "dimensionItemType": "ORGANISATION_UNIT",
        "valueType": "TEXT",
        "totalAggregationType": "SUM",
    }
    assert items["dx"] == {"uid": "dx", "name": "Data", "dimensionType": "DATA_X"}
    assert items[CASES]["dimensionItemType"] == "DATA_ELEMENT"
    assert items[CASES]["valueType"] == "INTEGER" and items[CASES]["code"] == "AN_CASES"
    # the element's own option combos, as DHIS2 lists them without a co dimension
    assert body["metaData"]["dimensions"]["co"] == [COC_F, COC_M]
    assert items[COC_F] == {"name": "An female"}


async def test_start_and_end_dates_instead_of_periods(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client, (rows, _) = shared_client, data
    body = await grid(
        client,
        ("dimension", f"dx:{ANC1};{ANC4}"),
        ("dimension", f"ou:{DISTRICT_2}"),
        ("startDate", "2024-02-01"),
        ("endDate", "2024-04-30"),
    )
    months = {"202402", "202403", "202404"}
    assert [h["name"] for h in body["headers"]] == ["dx", "ou", "value"]
    assert {tuple(r[:-1]): float(r[-1]) for r in body["rows"]} == {
        (ANC1, DISTRICT_2): total(rows, ANC1, months, {DISTRICT_2}),
        (ANC4, DISTRICT_2): total(rows, ANC4, months, {DISTRICT_2}),
    }
    assert body["metaData"]["dimensions"]["pe"] == []


async def test_csv_output(shared_client: httpx.AsyncClient, data: Data) -> None:
    client = shared_client
    params = (
        ("dimension", f"dx:{ANC1}"),
        ("dimension", "pe:2024Q1;2024Q2"),
        ("filter", f"ou:{ROOT}"),
    )
    body = await grid(client, *params)
    response = await get(client, "/api/analytics.csv", *params)
    assert response.headers["content-type"].startswith("application/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == ["Data", "Period", "Value"] and lines[1:] == body["rows"]
    by_accept = await client.get(
        "/api/analytics", params=list(params), headers={"Accept": "application/csv"}
    )
    assert by_accept.text == response.text
    as_xlsx = await client.get("/api/analytics.xlsx", params=list(params))
    assert as_xlsx.status_code == 409 and as_xlsx.json()["errorCode"] == NOT_IMPLEMENTED
    assert "`.xlsx`" in as_xlsx.json()["message"]
    assert (await client.get("/api/analytics.nope", params=list(params))).status_code == 404


async def test_data_value_set_json_csv_adx(shared_client: httpx.AsyncClient, data: Data) -> None:
    client, (_, values) = shared_client, data
    expected: dict[tuple[str, str, str], int] = defaultdict(int)
    for facility, month, coc, value in values:
        if month == "202402":
            expected[(DISTRICT_OF[facility], coc, "202402")] += value
    params = (
        ("dimension", f"dx:{CASES}"),
        ("dimension", "pe:202402"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("dimension", "co"),
    )
    found = (await get(client, "/api/analytics/dataValueSet.json", *params)).json()["dataValues"]
    assert {
        (v["orgUnit"], v["categoryOptionCombo"], v["period"]): int(v["value"]) for v in found
    } == dict(expected)
    assert all(v["dataElement"] == CASES and v["storedBy"] == "[aggregated]" for v in found)
    as_csv = await get(client, "/api/analytics/dataValueSet.csv", *params)
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    header = lines[0]
    assert header[:6] == [
        "dataelement",
        "period",
        "orgunit",
        "categoryoptioncombo",
        "attributeoptioncombo",
        "value",
    ]
    assert {(r[2], r[3], r[1]): int(r[5]) for r in lines[1:]} == dict(expected)
    as_adx = await client.get(
        "/api/analytics/dataValueSet",
        params=list(params),
        headers={"Accept": "application/adx+xml"},
    )
    assert as_adx.status_code == 200, as_adx.text
    root = ElementTree.fromstring(as_adx.content)
    cells = [(group.get("orgUnit"), value.get("value")) for group in root for value in group]
    assert sorted(int(v or 0) for _, v in cells) == sorted(expected.values())
    refused = await client.get(
        "/api/analytics/dataValueSet.json",
        params=[("dimension", f"dx:{CASES}"), ("dimension", "pe:202402"), ("filter", f"ou:{ROOT}")],
    )
    assert refused.status_code == 409 and refused.json()["errorCode"] == "E7119"


async def test_raw_data_is_not_aggregated(shared_client: httpx.AsyncClient, data: Data) -> None:
    client, (_, values) = shared_client, data
    body = (
        await get(
            client,
            "/api/analytics/rawData",
            ("dimension", f"dx:{CASES}"),
            ("dimension", "pe:2024Q1"),
            ("dimension", f"ou:{DISTRICT_1}"),
            ("dimension", "co"),
        )
    ).json()
    assert [h["name"] for h in body["headers"]] == ["dx", "pe", "ou", "co", "value"]
    expected = {(CASES, m, f, c): str(v) for f, m, c, v in values if DISTRICT_OF[f] == DISTRICT_1}
    assert {tuple(r[:-1]): r[-1] for r in body["rows"]} == expected
    assert body["height"] == len(expected) == 18


REFUSED: list[tuple[list[tuple[str, str | int | float | bool | None]], str]] = [
    ([("dimension", f"dx:{CASES}"), ("dimension", "pe:2024"), ("filter", "co")], "E7110"),
    (
        [
            ("dimension", f"dx:{ANC1}"),
            ("dimension", "pe:2024"),
            ("startDate", "2024-01-01"),
            ("endDate", "2024-02-01"),
        ],
        "E7105",
    ),
    (
        [("dimension", f"dx:{ANC1}"), ("startDate", "2024-03-01"), ("endDate", "2024-02-01")],
        "E7106",
    ),
    (
        [
            ("dimension", f"dx:{CASES_DS}.REPORTING_RATE"),
            ("startDate", "2024-01-01"),
            ("endDate", "2024-02-01"),
        ],
        "E7107",
    ),
    ([("dimension", f"dx:{CASES_DS}.NO_SUCH_METRIC"), ("dimension", "pe:2024")], "E7124"),
    ([("dimension", "dx:Jr4i0B3JrTA"), ("dimension", "pe:2024"), ("dimension", "co")], "E7114"),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("dimension", "pe:2023")], "E7111"),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("dimension", "ao")], NOT_IMPLEMENTED),
    ([("dimension", "dx:DE_GROUP-abcdefghijk"), ("dimension", "pe:2024")], NOT_IMPLEMENTED),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:LAST_90_DAYS")], NOT_IMPLEMENTED),
    (
        [("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("outputIdScheme", "ATTRIBUTE:x")],
        NOT_IMPLEMENTED,
    ),
    (
        [("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("aggregationType", "STDDEV")],
        NOT_IMPLEMENTED,
    ),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("columns", "dx")], NOT_IMPLEMENTED),
    ([("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("measureCriteria", "XX:1")], "E7124"),
    (
        [
            ("dimension", f"dx:{ANC1}"),
            ("dimension", "pe:2024"),
            ("dimension", "ou:OU_GROUP-abcdefghijk"),
        ],
        "E7143",
    ),
    (
        [("dimension", f"dx:{CASES}"), ("dimension", "pe:2024"), ("dimension", f"co:{ANC1}")],
        "E7124",
    ),
]


async def test_refusals_name_what_is_refused(shared_client: httpx.AsyncClient, data: Data) -> None:
    for params, code in REFUSED:
        response = await shared_client.get("/api/analytics", params=params)
        assert response.status_code == 409, (params, response.text)
        assert response.json()["errorCode"] == code, (params, response.text)
    refused = await shared_client.get(
        "/api/analytics",
        params=[("dimension", f"dx:{ANC1}"), ("dimension", "pe:2024"), ("tableLayout", "true")],
    )
    assert "`tableLayout`" in refused.json()["message"]


async def test_group_metadata_is_served_generically(
    shared_client: httpx.AsyncClient, data: Data
) -> None:
    client = shared_client
    found = (
        await get(
            client,
            "/api/organisationUnitGroups",
            ("filter", "name:like:An "),
            ("fields", "id,name,organisationUnits[id],groupSets[id]"),
            ("order", "name:asc"),
        )
    ).json()["organisationUnitGroups"]
    assert [g["name"] for g in found] == ["An clinics", "An hospitals"]
    assert {u["id"] for u in found[1]["organisationUnits"]} == {FACILITIES[0], FACILITIES[3]}
    assert found[0]["groupSets"] == [{"id": "AnGroupSet1"}]
    exported = (await get(client, "/api/metadata", ("organisationUnitGroupSets", "true"))).json()
    assert [s["id"] for s in exported.get("organisationUnitGroupSets", [])] == ["AnGroupSet1"]
