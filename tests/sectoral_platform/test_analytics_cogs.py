"""Category option groups and group sets: the metadata round trip, and a group set as an
analytics dimension and filter (by option combo, or by attribute option combo); each answer
summed here from the values the test imported."""

from collections import defaultdict
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import DISTRICT_1, DISTRICT_2, DISTRICT_OF, FACILITIES, ROOT
from tests.sectoral_platform.test_analytics_params import (
    CASES,
    CASES_DS,
    COC_F,
    COC_M,
    FEMALE,
    MALE,
    Values,
    grid,
    seed,
    table,
)
from tests.sectoral_platform.tracker_helpers import PROGRAM

pytestmark = pytest.mark.anyio

G_F, G_M, G_ALL = "CgGroupFem1", "CgGroupMal1", "CgGroupAll1"
SEX_SET, ONE_SET, NO_DIM_SET = "CgSexSet001", "CgOneSet001", "CgNoDimSet1"
DONOR_A, DONOR_B, DONOR_C = "CgDonorOptA", "CgDonorOptB", "CgDonorOptC"
FUNDING, FUND_COMBO = "CgFunding01", "CgFundCmb01"
AOC = {DONOR_A: "CgAocDonorA", DONOR_B: "CgAocDonorB", DONOR_C: "CgAocDonorC"}
PUBLIC, PRIVATE, FUNDER_SET = "CgPublicGrp", "CgPrivatGrp", "CgFunderSet"
FUNDED, FUNDED_DS = "CgFundedDe1", "CgFundedDs1"

DOUBLED = "CgDoubledIn"
COGS: dict[str, Any] = {
    "indicatorTypes": [{"id": "CgIndType01", "name": "Cg number", "factor": 1, "number": True}],
    "indicators": [{"id": DOUBLED, "name": "Cg doubled cases", "shortName": "Cg doubled",
                    "numerator": f"#{{{CASES}}} * 2", "denominator": "1",
                    "indicatorType": {"id": "CgIndType01"}}],
    "categoryOptionGroupSets": [  # listed first: the import order puts groups before sets
        {"id": SEX_SET, "name": "Cg sex groups", "shortName": "Cg sex groups",
         "categoryOptionGroups": [{"id": G_F}, {"id": G_M}]},
        {"id": ONE_SET, "name": "Cg everyone", "shortName": "Cg everyone",
         "categoryOptionGroups": [{"id": G_ALL}]},
        {"id": NO_DIM_SET, "name": "Cg not a dimension", "shortName": "Cg not a dimension",
         "dataDimension": False, "categoryOptionGroups": [{"id": G_ALL}]},
    ],
    "categoryOptionGroups": [
        {"id": G_F, "name": "Cg women", "shortName": "Cg women", "code": "CG_W",
         "categoryOptions": [{"id": FEMALE}]},
        {"id": G_M, "name": "Cg men", "shortName": "Cg men", "categoryOptions": [{"id": MALE}]},
        {"id": G_ALL, "name": "Cg all", "shortName": "Cg all",
         "categoryOptions": [{"id": FEMALE}, {"id": MALE}]},
    ],
}  # fmt: skip

FUNDING_METADATA: dict[str, Any] = {
    "categoryOptions": [{"id": o, "name": f"Cg donor {o[-1]}", "shortName": f"Cg donor {o[-1]}"}
                        for o in AOC],
    "categories": [{"id": FUNDING, "name": "Cg funding", "shortName": "Cg funding",
                    "dataDimensionType": "ATTRIBUTE",
                    "categoryOptions": [{"id": o} for o in AOC]}],
    "categoryCombos": [{"id": FUND_COMBO, "name": "Cg funding", "dataDimensionType": "ATTRIBUTE",
                        "categories": [{"id": FUNDING}]}],
    "categoryOptionCombos": [{"id": c, "name": f"Cg donor {o[-1]}",
                              "categoryCombo": {"id": FUND_COMBO}, "categoryOptions": [{"id": o}]}
                             for o, c in AOC.items()],
    "dataElements": [{"id": FUNDED, "name": "Cg funded visits", "shortName": "Cg funded visits",
                      "valueType": "INTEGER", "aggregationType": "SUM",
                      "domainType": "AGGREGATE"}],
    "dataSets": [{"id": FUNDED_DS, "name": "Cg funded", "shortName": "Cg funded",
                  "periodType": "Monthly", "categoryCombo": {"id": FUND_COMBO},
                  "dataSetElements": [{"dataElement": {"id": FUNDED}}],
                  "organisationUnits": [{"id": f} for f in FACILITIES]}],
    "categoryOptionGroups": [
        {"id": PUBLIC, "name": "Cg public", "shortName": "Cg public",
         "dataDimensionType": "ATTRIBUTE", "categoryOptions": [{"id": DONOR_A}, {"id": DONOR_B}]},
        {"id": PRIVATE, "name": "Cg private", "shortName": "Cg private",
         "dataDimensionType": "ATTRIBUTE", "categoryOptions": [{"id": DONOR_C}]},
    ],
    "categoryOptionGroupSets": [
        {"id": FUNDER_SET, "name": "Cg funder type", "shortName": "Cg funder type",
         "dataDimensionType": "ATTRIBUTE",
         "categoryOptionGroups": [{"id": PUBLIC}, {"id": PRIVATE}]},
    ],
}  # fmt: skip
FUNDER_OF = {DONOR_A: PUBLIC, DONOR_B: PUBLIC, DONOR_C: PRIVATE}
Funded = list[tuple[str, str, str, int]]  # facility, month, donor option, value


@pytest.fixture(scope="module")
async def seeded(shared_client: httpx.AsyncClient) -> tuple[Values, Funded]:
    values = await seed(shared_client)
    imported = await shared_client.post("/api/metadata", json=COGS)
    assert imported.status_code == 200, imported.text
    imported = await shared_client.post("/api/metadata", json=FUNDING_METADATA)
    assert imported.status_code == 200, imported.text
    funded: Funded = [
        (f, m, donor, 4 + i * 3 + int(m[4:]) + k * 11)
        for i, f in enumerate(FACILITIES)
        for m in ("202401", "202402")
        for k, donor in enumerate(AOC)
        if (i + k) % 4 != 3  # some facilities have no value from some donors
    ]
    sent = await shared_client.post(
        "/api/dataValueSets",
        json={"dataSet": FUNDED_DS, "dataValues": [
            {"dataElement": FUNDED, "period": m, "orgUnit": f, "attributeOptionCombo": AOC[d],
             "value": str(v)} for f, m, d, v in funded
        ]},
    )  # fmt: skip
    assert sent.json()["response"]["importCount"]["imported"] == len(funded), sent.text
    return values, funded


async def test_metadata_round_trip(shared_client: httpx.AsyncClient, seeded: Any) -> None:
    listed = await shared_client.get(
        "/api/categoryOptionGroups",
        params={"fields": "id,name,categoryOptions,groupSets,dataDimensionType", "order": "name",
                "filter": "dataDimensionType:eq:DISAGGREGATION", "pageSize": 2},
    )  # fmt: skip
    body = listed.json()
    assert body["pager"]["total"] == 3 and body["pager"]["pageCount"] == 2
    assert body["categoryOptionGroups"] == [
        {"id": G_ALL, "name": "Cg all", "dataDimensionType": "DISAGGREGATION",
         "categoryOptions": [{"id": FEMALE}, {"id": MALE}],
         "groupSets": [{"id": ONE_SET}, {"id": NO_DIM_SET}]},
        {"id": G_M, "name": "Cg men", "dataDimensionType": "DISAGGREGATION",
         "categoryOptions": [{"id": MALE}], "groupSets": [{"id": SEX_SET}]},
    ]  # fmt: skip
    by_option = await shared_client.get(
        "/api/categoryOptionGroups", params={"filter": f"categoryOptions.id:eq:{DONOR_C}"}
    )
    assert [g["id"] for g in by_option.json()["categoryOptionGroups"]] == [PRIVATE]
    one = (await shared_client.get(f"/api/categoryOptionGroupSets/{FUNDER_SET}")).json()
    assert one["dataDimensionType"] == "ATTRIBUTE" and one["dataDimension"] is True
    assert one["categoryOptionGroups"] == [{"id": PUBLIC}, {"id": PRIVATE}]
    exported = (await shared_client.get("/api/metadata", params={"fields": ":owner"})).json()
    sets = {s["id"]: s for s in exported["categoryOptionGroupSets"]}
    assert set(sets) == {SEX_SET, ONE_SET, NO_DIM_SET, FUNDER_SET}
    assert sets[NO_DIM_SET]["dataDimension"] is False and sets[ONE_SET]["dataDimension"] is True
    assert {g["id"] for g in exported["categoryOptionGroups"]} == {G_F, G_M, G_ALL, PUBLIC, PRIVATE}
    schema = (await shared_client.get("/api/schemas/categoryOptionGroupSet")).json()
    assert schema["klass"] == "org.hisp.dhis.category.CategoryOptionGroupSet"


async def test_export_imports_into_an_empty_instance(
    shared_client: httpx.AsyncClient, client: httpx.AsyncClient, seeded: Any
) -> None:
    exported = (await shared_client.get("/api/metadata", params={"fields": ":owner"})).json()
    payload = {
        k: exported[k]
        for k in ("categoryOptions", "categoryOptionGroups", "categoryOptionGroupSets")
    }
    payload["categoryOptionGroupSets"] = [
        s for s in payload["categoryOptionGroupSets"] if s["id"] == SEX_SET
    ]
    payload["categoryOptionGroups"] = [
        g for g in payload["categoryOptionGroups"] if g["id"] in (G_F, G_M)
    ]
    imported = await client.post("/api/metadata", json=payload)
    assert imported.status_code == 200, imported.text
    again = (await client.get(f"/api/categoryOptionGroups/{G_F}")).json()
    assert again["categoryOptions"] == [{"id": FEMALE}] and again["groupSets"] == [{"id": SEX_SET}]
    bad_enum = {"id": "CgGroupBad1", "name": "Bad", "shortName": "Bad",
                "dataDimensionType": "SOMETHING"}  # fmt: skip
    assert (
        await client.post("/api/metadata", json={"categoryOptionGroups": [bad_enum]})
    ).status_code == 400
    dangling = {"id": "CgGroupBad1", "name": "Bad", "shortName": "Bad",
                "categoryOptions": [{"id": "NoSuchOpt01"}]}  # fmt: skip
    refused = await client.post("/api/metadata", json={"categoryOptionGroups": [dangling]})
    assert refused.status_code == 409
    report = refused.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"]
    assert report[0]["errorCode"] == "E5002"
    assert (await client.get("/api/categoryOptionGroups/CgGroupBad1")).status_code == 404


async def test_disaggregation_group_set_as_dimension(
    shared_client: httpx.AsyncClient, seeded: tuple[Values, Funded]
) -> None:
    values, _ = seeded
    group_of = {COC_F: G_F, COC_M: G_M}
    expected: dict[tuple[str, ...], float] = defaultdict(float)
    for _f, month, coc, value in values:
        if month in ("202401", "202402"):
            expected[(CASES, month, group_of[coc])] += value
    body = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", "pe:202401;202402"),
        ("dimension", SEX_SET),
        ("filter", f"ou:{ROOT}"),
    )
    assert table(body) == dict(expected)
    assert body["headers"][2] == {
        "name": SEX_SET, "column": "Cg sex groups", "valueType": "TEXT",
        "type": "java.lang.String", "hidden": False, "meta": True,
    }  # fmt: skip
    meta = body["metaData"]
    assert meta["dimensions"][SEX_SET] == [G_F, G_M]
    assert meta["items"][SEX_SET] == {"name": "Cg sex groups"}
    assert meta["items"][G_F] == {"name": "Cg women"}
    men = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", f"{SEX_SET}:{G_M}"),
        ("filter", "pe:202401"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("includeMetadataDetails", "true"),
    )
    per_district: dict[tuple[str, ...], float] = defaultdict(float)
    for f, m, c, v in values:
        if m == "202401" and c == COC_M:
            per_district[(CASES, G_M, DISTRICT_OF[f])] += v
    assert table(men) == dict(per_district)
    assert men["metaData"]["dimensions"][SEX_SET] == [G_M]
    assert men["metaData"]["items"][SEX_SET]["dimensionType"] == "CATEGORY_OPTION_GROUP_SET"
    assert men["metaData"]["items"][G_M]["dimensionItemType"] == "CATEGORY_OPTION_GROUP"
    doubled = await grid(
        shared_client,
        ("dimension", f"dx:{DOUBLED}"),
        ("dimension", SEX_SET),
        ("filter", "pe:202401"),
        ("filter", f"ou:{ROOT}"),
    )
    assert table(doubled) == {
        (DOUBLED, g): 2 * v for (_de, m, g), v in expected.items() if m == "202401"
    }


async def test_disaggregation_group_set_as_filter(
    shared_client: httpx.AsyncClient, seeded: tuple[Values, Funded]
) -> None:
    values, _ = seeded
    expected: dict[tuple[str, ...], float] = defaultdict(float)
    for f, _m, c, v in values:
        if c == COC_F:
            expected[(CASES, DISTRICT_OF[f])] += v
    body = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("filter", "pe:2024Q1"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("filter", f"{SEX_SET}:{G_F}"),
    )
    assert table(body) == dict(expected)
    assert [h["name"] for h in body["headers"]] == ["dx", "ou", "value"]
    assert body["metaData"]["dimensions"][SEX_SET] == [G_F]
    everyone = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("filter", "pe:2024Q1"),
        ("filter", f"ou:{ROOT}"),
        ("filter", ONE_SET),
    )
    assert table(everyone) == {(CASES,): float(sum(v for *_x, v in values))}


async def test_attribute_group_set_groups_attribute_option_combos(
    shared_client: httpx.AsyncClient, seeded: tuple[Values, Funded]
) -> None:
    _, funded = seeded
    expected: dict[tuple[str, ...], float] = defaultdict(float)
    for _f, m, donor, v in funded:
        expected[(FUNDED, m, FUNDER_OF[donor])] += v
    body = await grid(
        shared_client,
        ("dimension", f"dx:{FUNDED}"),
        ("dimension", "pe:202401;202402"),
        ("dimension", FUNDER_SET),
        ("filter", f"ou:{ROOT}"),
    )
    assert table(body) == dict(expected)
    assert body["metaData"]["dimensions"][FUNDER_SET] == [PUBLIC, PRIVATE]
    public: dict[tuple[str, ...], float] = defaultdict(float)
    for f, _m, donor, v in funded:
        if FUNDER_OF[donor] == PUBLIC:
            public[(FUNDED, f)] += v
    filtered = await grid(
        shared_client,
        ("dimension", f"dx:{FUNDED}"),
        ("filter", "pe:2024Q1"),
        ("dimension", f"ou:{';'.join(FACILITIES)}"),
        ("filter", f"{FUNDER_SET}:{PUBLIC}"),
    )
    assert table(filtered) == dict(public)


async def test_refusals(shared_client: httpx.AsyncClient, seeded: Any) -> None:
    async def refused(*params: tuple[str, str]) -> tuple[int, str | None]:
        response = await shared_client.get("/api/analytics", params=list(params))
        return response.status_code, response.json().get("errorCode")

    base = (("dimension", f"dx:{CASES}"), ("filter", "pe:202401"), ("filter", f"ou:{ROOT}"))
    assert await refused(*base, ("dimension", f"{SEX_SET}:{PUBLIC}")) == (409, "E7124")
    assert await refused(*base, ("filter", f"{SEX_SET}:NoSuchGrp01")) == (409, "E7124")
    assert await refused(*base, ("dimension", NO_DIM_SET)) == (409, "E7125")
    rate = (("dimension", f"dx:{CASES_DS}.REPORTING_RATE"), *base[1:])
    assert await refused(*rate, ("dimension", SEX_SET)) == (409, "E7112")
    events = {
        "id": "CgEventsPi1",
        "name": "Cg events",
        "shortName": "Cg events",
        "program": {"id": PROGRAM},
        "expression": "V{event_count}",
        "aggregationType": "COUNT",
    }
    added = await shared_client.post("/api/metadata", json={"programIndicators": [events]})
    assert added.status_code == 200, added.text
    by_set = await shared_client.get(
        "/api/analytics",
        params=[("dimension", "dx:CgEventsPi1"), *base[1:], ("dimension", SEX_SET)],
    )
    assert by_set.status_code == 409 and by_set.json()["errorCode"] == "E2038"
    assert SEX_SET in by_set.json()["message"]
