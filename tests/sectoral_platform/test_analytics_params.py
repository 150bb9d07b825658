"""Analytics dimensions beyond dx/pe/ou: co, a category, org unit groups and group sets, reporting
rates; each answer computed here from the values the test imported."""

from collections import defaultdict
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import DISTRICT_1, DISTRICT_2, DISTRICT_OF, FACILITIES, ROOT

pytestmark = pytest.mark.anyio

SEX, FEMALE, MALE = "AnSexCat001", "AnFemaleOpt", "AnMaleOpt01"
COMBO, COC_F, COC_M = "AnSexCombo1", "AnCocFemal1", "AnCocMale01"
CASES, CASES_DS = "AnCases0001", "AnDataSet01"
HOSP, CLIN, GSET = "AnGroupHosp", "AnGroupClin", "AnGroupSet1"
Q1 = ["202401", "202402", "202403"]
GROUPS = {HOSP: [FACILITIES[0], FACILITIES[3]], CLIN: [FACILITIES[1], FACILITIES[2], FACILITIES[4]]}
# (facility index, period) -> completion date; the deadline is the period end + 15 days
REGISTRATIONS = {
    (0, "202401"): "2024-02-10",
    (1, "202401"): "2024-02-20",
    (2, "202401"): "2024-02-15",
    (3, "202401"): "2024-03-01",
    (0, "202402"): "2024-03-05",
}
Values = list[tuple[str, str, str, int]]  # facility, month, coc, value

METADATA: dict[str, Any] = {
    "categoryOptions": [
        {"id": FEMALE, "name": "An female", "shortName": "An F", "code": "AN_F"},
        {"id": MALE, "name": "An male", "shortName": "An M", "code": "AN_M"},
    ],
    "categories": [
        {
            "id": SEX,
            "name": "An sex",
            "shortName": "An sex",
            "categoryOptions": [{"id": FEMALE}, {"id": MALE}],
        }
    ],
    "categoryCombos": [{"id": COMBO, "name": "An sex", "categories": [{"id": SEX}]}],
    "categoryOptionCombos": [
        {
            "id": COC_F,
            "name": "An female",
            "code": "AN_COC_F",
            "categoryCombo": {"id": COMBO},
            "categoryOptions": [{"id": FEMALE}],
        },
        {
            "id": COC_M,
            "name": "An male",
            "code": "AN_COC_M",
            "categoryCombo": {"id": COMBO},
            "categoryOptions": [{"id": MALE}],
        },
    ],
    "dataElements": [
        {
            "id": CASES,
            "name": "An cases",
            "shortName": "An cases short",
            "code": "AN_CASES",
            "valueType": "INTEGER",
            "aggregationType": "SUM",
            "domainType": "AGGREGATE",
            "categoryCombo": {"id": COMBO},
        }
    ],
    "dataSets": [
        {
            "id": CASES_DS,
            "name": "An cases report",
            "shortName": "An cases report",
            "periodType": "Monthly",
            "dataSetElements": [{"dataElement": {"id": CASES}}],
            "organisationUnits": [{"id": f} for f in FACILITIES],
        }
    ],
    "organisationUnitGroups": [
        {
            "id": uid,
            "name": name,
            "shortName": name,
            "code": name.upper(),
            "organisationUnits": [{"id": f} for f in GROUPS[uid]],
        }
        for uid, name in ((HOSP, "An hospitals"), (CLIN, "An clinics"))
    ],
    "organisationUnitGroupSets": [
        {
            "id": GSET,
            "name": "An facility type",
            "shortName": "An facility type",
            "organisationUnitGroups": [{"id": HOSP}, {"id": CLIN}],
        }
    ],
}


def cases(index: int, month: str, coc: str) -> int:
    return 3 + index * 5 + int(month[4:]) * 2 + (7 if coc == COC_M else 0)


@pytest.fixture(scope="module")
async def values(shared_client: httpx.AsyncClient) -> Values:
    return await seed(shared_client)


async def seed(client: httpx.AsyncClient) -> Values:
    """The sex-disaggregated element, its data set, the groups, values and registrations."""
    imported = await client.post("/api/metadata", json=METADATA)
    assert imported.status_code == 200, imported.text
    rows: Values = []
    for index, facility in enumerate(FACILITIES):
        for month in Q1:
            for coc in (COC_F, COC_M):
                if (index, month, coc) == (5, "202403", COC_F):
                    continue  # one missing value
                rows.append((facility, month, coc, cases(index, month, coc)))
    payload = [
        {"dataElement": CASES, "period": m, "orgUnit": f, "categoryOptionCombo": c, "value": v}
        for f, m, c, v in rows
    ]
    sent = await client.post("/api/dataValueSets", json={"dataValues": payload})
    assert sent.json()["response"]["importCount"]["imported"] == len(rows), sent.text
    registrations = [
        {"dataSet": CASES_DS, "period": pe, "organisationUnit": FACILITIES[i], "date": when}
        for (i, pe), when in REGISTRATIONS.items()
    ]
    done = await client.post(
        "/api/completeDataSetRegistrations", json={"completeDataSetRegistrations": registrations}
    )
    assert done.json()["response"]["importCount"]["imported"] == len(registrations), done.text
    return rows


async def grid(client: httpx.AsyncClient, *params: tuple[str, str]) -> dict[str, Any]:
    response = await client.get("/api/analytics", params=list(params))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def table(body: dict[str, Any]) -> dict[tuple[str, ...], float]:
    return {tuple(row[:-1]): float(row[-1]) for row in body["rows"]}


async def test_co_dimension_splits_by_option_combo(
    shared_client: httpx.AsyncClient, values: Values
) -> None:
    expected: dict[tuple[str, ...], float] = defaultdict(float)
    for facility, _month, coc, value in values:
        expected[(CASES, "2024Q1", DISTRICT_OF[facility], coc)] += value
    body = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", "pe:2024Q1"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("dimension", "co"),
    )
    assert table(body) == dict(expected)
    assert body["headers"][3]["name"] == "co"
    assert body["headers"][3]["column"] == "Category option combo"
    assert body["metaData"]["dimensions"]["co"] == [COC_F, COC_M]
    assert body["metaData"]["items"][COC_M]["name"] == "An male"
    one = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", f"co:{COC_M}"),
        ("filter", "pe:202402"),
        ("filter", f"ou:{ROOT}"),
    )
    assert table(one) == {(CASES, COC_M): sum(cases(i, "202402", COC_M) for i in range(6))}


async def test_category_dimension_and_filter(
    shared_client: httpx.AsyncClient, values: Values
) -> None:
    female = sum(v for _f, m, c, v in values if c == COC_F and m == "202403")
    male = sum(v for _f, m, c, v in values if c == COC_M and m == "202403")
    body = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", SEX),
        ("filter", "pe:202403"),
        ("filter", f"ou:{ROOT}"),
    )
    assert table(body) == {(CASES, FEMALE): female, (CASES, MALE): male}
    assert body["headers"][1] == {
        "name": SEX,
        "column": "An sex",
        "valueType": "TEXT",
        "type": "java.lang.String",
        "hidden": False,
        "meta": True,
    }
    assert body["metaData"]["dimensions"][SEX] == [FEMALE, MALE]
    only_male = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("filter", f"{SEX}:{MALE}"),
        ("filter", "pe:202403"),
        ("dimension", f"ou:{DISTRICT_2}"),
    )
    assert table(only_male) == {
        (CASES, DISTRICT_2): sum(cases(i, "202403", COC_M) for i in (3, 4, 5))
    }


async def test_org_unit_groups_in_ou_and_group_set_dimension(
    shared_client: httpx.AsyncClient, values: Values
) -> None:
    per_unit: dict[str, float] = defaultdict(float)
    for facility, month, _c, value in values:
        if month == "202401":
            per_unit[facility] += value
    body = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("filter", "pe:202401"),
        ("dimension", f"ou:OU_GROUP-{HOSP}"),
    )
    assert table(body) == {(CASES, f): per_unit[f] for f in GROUPS[HOSP]}
    assert body["metaData"]["items"][HOSP]["name"] == "An hospitals"
    by_type = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("filter", "pe:202401"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2}"),
        ("dimension", GSET),
    )
    expected = {
        (CASES, DISTRICT_OF[f], group): 0.0 for group, members in GROUPS.items() for f in members
    }
    for group, members in GROUPS.items():
        for f in members:
            expected[(CASES, DISTRICT_OF[f], group)] += per_unit[f]
    assert table(by_type) == expected
    assert by_type["headers"][2]["column"] == "An facility type"
    clinics = await grid(
        shared_client,
        ("dimension", f"dx:{CASES}"),
        ("dimension", "pe:202401"),
        ("filter", f"ou:{ROOT}"),
        ("filter", f"{GSET}:{CLIN}"),
    )
    assert table(clinics) == {(CASES, "202401"): sum(per_unit[f] for f in GROUPS[CLIN])}


async def test_reporting_rates_from_registrations(
    shared_client: httpx.AsyncClient, values: Values
) -> None:
    def counts(period_months: list[str], units: list[str]) -> tuple[int, int, int]:
        late = {"2024-02-20", "2024-03-01"}
        done = [
            (i, pe, when)
            for (i, pe), when in REGISTRATIONS.items()
            if pe in period_months and FACILITIES[i] in units
        ]
        on_time = sum(1 for _i, _pe, when in done if when not in late)
        return len(done), on_time, len(period_months) * len(units)

    metrics = ["REPORTING_RATE", "REPORTING_RATE_ON_TIME", "ACTUAL_REPORTS", "EXPECTED_REPORTS"]
    body = await grid(
        shared_client,
        ("dimension", "dx:" + ";".join(f"{CASES_DS}.{m}" for m in metrics)),
        ("dimension", "pe:202401;2024Q1"),
        ("dimension", f"ou:{DISTRICT_1};{DISTRICT_2};{ROOT}"),
    )
    expected: dict[tuple[str, ...], float] = {}
    for pe, months in (("202401", ["202401"]), ("2024Q1", Q1)):
        for unit in (DISTRICT_1, DISTRICT_2, ROOT):
            units = [f for f in FACILITIES if unit in (ROOT, DISTRICT_OF[f])]
            actual, on_time, target = counts(months, units)
            expected[(f"{CASES_DS}.EXPECTED_REPORTS", pe, unit)] = target
            if actual:
                expected[(f"{CASES_DS}.ACTUAL_REPORTS", pe, unit)] = actual
                expected[(f"{CASES_DS}.REPORTING_RATE", pe, unit)] = round(actual * 100 / target, 2)
            if on_time:
                expected[(f"{CASES_DS}.REPORTING_RATE_ON_TIME", pe, unit)] = round(
                    on_time * 100 / target, 2
                )
    assert table(body) == expected
    # 202401 in district 1: three of three reported, two of them by the 15th of February
    assert table(body)[(f"{CASES_DS}.REPORTING_RATE_ON_TIME", "202401", DISTRICT_1)] == 66.67
    assert (
        body["metaData"]["items"][f"{CASES_DS}.REPORTING_RATE"]["name"]
        == "An cases report - Reporting rate"
    )
    with_num_den = await grid(
        shared_client,
        ("dimension", f"dx:{CASES_DS}.REPORTING_RATE"),
        ("filter", "pe:2024Q1"),
        ("filter", f"ou:{ROOT}"),
        ("includeNumDen", "true"),
    )
    assert with_num_den["rows"] == [
        [f"{CASES_DS}.REPORTING_RATE", "27.78", "5", "18", "100", "100", "1"]
    ]
