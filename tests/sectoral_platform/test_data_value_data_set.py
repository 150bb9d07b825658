"""`ds` (`dataSet` in the JSON body) of `POST`/`DELETE /api/dataValues`: checked as DHIS2 checks
it (E1105, E2021), and the value is validated against that data set alone."""

from __future__ import annotations

import httpx
import pytest

from tests.sectoral_platform.conftest import ANC1, BEDS, COC, DATA_SET, FACILITIES

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]
QUARTERLY = "QuarterDs01"


async def add_quarterly_set(client: httpx.AsyncClient) -> None:
    data_set = {
        "id": QUARTERLY,
        "name": "ANC quarterly review",
        "shortName": "ANC quarterly",
        "periodType": "Quarterly",
        "dataSetElements": [{"dataElement": {"id": ANC1}}],
        "organisationUnits": [{"id": FAC}],
    }
    answer = await client.post("/api/metadata", json={"dataSets": [data_set]})
    assert answer.status_code == 200, answer.text


async def test_an_unknown_data_set_or_one_without_the_element_is_refused(
    client: httpx.AsyncClient,
) -> None:
    key = {"de": ANC1, "pe": "202401", "ou": FAC, "co": COC, "value": "5"}
    unknown = await client.post("/api/dataValues", params={**key, "ds": "NoSuchSet01"})
    assert unknown.status_code == 409 and unknown.json()["errorCode"] == "E1105"
    assert "NoSuchSet01" in unknown.json()["message"]
    await add_quarterly_set(client)
    other = {**key, "de": BEDS, "ds": QUARTERLY}
    outside = await client.post("/api/dataValues", params=other)
    assert outside.status_code == 409 and outside.json()["errorCode"] == "E2021"
    by_body = await client.post(
        "/api/dataValues",
        json={"dataElement": BEDS, "period": "202401", "orgUnit": FAC, "value": "5",
              "dataSet": QUARTERLY},
    )  # fmt: skip
    assert by_body.status_code == 409 and by_body.json()["errorCode"] == "E2021"
    for params in (key, {**key, "de": BEDS}):
        read = await client.get("/api/dataValues", params={**params, "value": ""})
        assert read.status_code == 404  # nothing written


async def test_the_named_data_set_alone_decides_the_period_type(
    client: httpx.AsyncClient,
) -> None:
    await add_quarterly_set(client)
    monthly = {"de": ANC1, "pe": "202401", "ou": FAC, "co": COC, "value": "5"}
    # ANC 1st visit is in a monthly and a quarterly data set: a month fits one of them
    assert (await client.post("/api/dataValues", params=monthly)).status_code == 201
    named = await client.post("/api/dataValues", params={**monthly, "value": "6", "ds": QUARTERLY})
    assert named.status_code == 409 and named.json()["errorCode"] == "E7617"
    assert (await client.get("/api/dataValues", params=monthly)).json() == ["5"]
    fits = await client.post("/api/dataValues", params={**monthly, "value": "6", "ds": DATA_SET})
    assert fits.status_code == 201
    quarter = {**monthly, "pe": "2024Q1", "ds": QUARTERLY}
    assert (await client.post("/api/dataValues", params=quarter)).status_code == 201
    gone = await client.delete("/api/dataValues", params={**quarter, "ds": DATA_SET})
    assert gone.status_code == 409 and gone.json()["errorCode"] == "E7617"
    assert (await client.delete("/api/dataValues", params=quarter)).status_code == 204
