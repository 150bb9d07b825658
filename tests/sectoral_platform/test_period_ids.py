"""Period ids: every spelling DHIS2 2.42 accepts (`DateUnitType`: days and months with or without
dashes, weeks with one or two digits) names one period, stored and returned under its canonical
id (`PeriodType.getIsoDate`); spellings DHIS2 refuses are refused with its conflict."""

import httpx
import pytest

from services.sectoral_platform.aggregate.periods import parse_period
from tests.sectoral_platform.conftest import ANC1, DATA_SET, FACILITIES
from tests.sectoral_platform.test_data_values import stored

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("2024W01", "2024W1"),
        ("2024W1", "2024W1"),
        ("2020W53", "2020W53"),
        ("2024WedW02", "2024WedW2"),
        ("2024SunW9", "2024SunW9"),
        ("2024BiW01", "2024BiW1"),
        ("2024-01", "202401"),
        ("202401", "202401"),
        ("2024-01-05", "20240105"),
        ("20240105", "20240105"),
        ("202401B", "202401B"),
        ("2024Q1", "2024Q1"),
        ("2024AprilS2", "2024AprilS2"),
        ("2024July", "2024July"),
    ],
)
def test_each_accepted_spelling_has_one_canonical_id(sent: str, canonical: str) -> None:
    period = parse_period(sent)
    assert period is not None and period.id == canonical
    again = parse_period(canonical)
    assert again is not None and (again.start, again.end) == (period.start, period.end)


@pytest.mark.parametrize(
    "sent",
    ["2024W0", "2024W00", "2024W001", "2024W53", "2024-1", "2024-13", "202401-05", "2024/01"],
)
def test_spellings_dhis2_refuses_are_refused(sent: str) -> None:
    assert parse_period(sent) is None


async def post(
    client: httpx.AsyncClient, period: str, value: str, status: int = 200
) -> dict[str, object]:
    body = {
        "dataSet": DATA_SET,
        "dataValues": [{"dataElement": ANC1, "period": period, "orgUnit": FAC, "value": value}],
    }
    response = await client.post("/api/dataValueSets", json=body)
    assert response.status_code == status, response.text
    summary: dict[str, object] = response.json()["response"]
    return summary


async def test_two_spellings_of_a_month_are_one_stored_value(client: httpx.AsyncClient) -> None:
    first = await post(client, "2024-01", "5")
    assert first["importCount"] == {"imported": 1, "updated": 0, "ignored": 0, "deleted": 0}
    second = await post(client, "202401", "6")
    assert second["importCount"] == {"imported": 0, "updated": 1, "ignored": 0, "deleted": 0}
    for asked in ("2024-01", "202401"):
        found = await stored(client, period=asked)
        assert [(v["period"], v["value"]) for v in found] == [("202401", "6")]
    one = await client.get("/api/dataValues", params={"de": ANC1, "pe": "2024-01", "ou": FAC})
    assert one.status_code == 200 and one.json() == ["6"]


async def test_a_refused_spelling_is_dhis2s_conflict(client: httpx.AsyncClient) -> None:
    summary = await post(client, "2024-1", "5", status=409)
    assert summary["importCount"] == {"imported": 0, "updated": 0, "ignored": 1, "deleted": 0}
    assert summary["conflicts"] == [
        {
            "object": "2024-1",
            "objects": {"period": "2024-1"},
            "value": "Period not valid: `2024-1`",
            "errorCode": "E7611",
            "property": "period",
            "indexes": [0],
        }
    ]
    assert await stored(client, period="202401") == []


async def test_a_completeness_registration_is_kept_under_the_canonical_id(
    client: httpx.AsyncClient,
) -> None:
    path = "/api/completeDataSetRegistrations"
    item = {"dataSet": DATA_SET, "period": "2024-01", "organisationUnit": FAC, "date": "2024-02-03"}
    created = await client.post(path, json={"completeDataSetRegistrations": [item]})
    assert created.json()["response"]["importCount"]["imported"] == 1, created.text
    again = await client.post(
        path, json={"completeDataSetRegistrations": [{**item, "period": "202401"}]}
    )
    assert again.json()["response"]["importCount"]["updated"] == 1, again.text
    params = {"dataSet": DATA_SET, "orgUnit": FAC, "period": "2024-01"}
    found = (await client.get(path, params=params)).json()["completeDataSetRegistrations"]
    assert [r["period"] for r in found] == ["202401"]
    gone = await client.delete(path, params={"ds": DATA_SET, "pe": "202401", "ou": FAC})
    assert gone.status_code == 204
