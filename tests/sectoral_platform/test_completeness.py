"""`/api/completeDataSetRegistrations` and `completeDate` on data value sets."""

from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import ANC1, DATA_SET, FACILITIES, ROOT

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]
PATH = "/api/completeDataSetRegistrations"


async def registrations(client: httpx.AsyncClient, **extra: str) -> list[dict[str, Any]]:
    params = {"dataSet": DATA_SET, "orgUnit": ROOT, "children": "true", **extra}
    params.setdefault("period", "202401")
    response = await client.get(PATH, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["completeDataSetRegistrations"]
    return found


async def test_register_read_update_delete(client: httpx.AsyncClient) -> None:
    item = {"dataSet": DATA_SET, "period": "202401", "organisationUnit": FAC, "date": "2024-02-03"}
    dry = await client.post(PATH, params={"dryRun": "true"}, json={PATH[5:]: [item]})
    assert dry.json()["response"]["importCount"]["imported"] == 1
    assert await registrations(client) == []
    created = await client.post(PATH, json={"completeDataSetRegistrations": [item]})
    assert created.status_code == 200, created.text
    assert created.json()["response"]["importCount"]["imported"] == 1
    [found] = await registrations(client)
    assert found["organisationUnit"] == FAC and found["date"] == "2024-02-03"
    assert found["completed"] is True and found["storedBy"] == "admin"
    again = await client.post(
        PATH, json={"completeDataSetRegistrations": [{**item, "date": "2024-02-04"}]}
    )
    assert again.json()["response"]["importCount"]["updated"] == 1
    deleted = await client.delete(PATH, params={"ds": DATA_SET, "pe": "202401", "ou": FAC})
    assert deleted.status_code == 204
    assert await registrations(client) == []
    missing = await client.delete(PATH, params={"ds": DATA_SET, "pe": "202401", "ou": FAC})
    assert missing.status_code == 404


async def test_conflicts_name_the_object_and_write_nothing(client: httpx.AsyncClient) -> None:
    items = [
        {"dataSet": "nodataset01", "period": "202401", "organisationUnit": FAC},
        {"dataSet": DATA_SET, "period": "2024Q1", "organisationUnit": FAC},
        {"dataSet": DATA_SET, "period": "202401", "organisationUnit": "nounit00001"},
    ]
    response = await client.post(PATH, json={"completeDataSetRegistrations": items})
    assert response.status_code == 409
    summary = response.json()["response"]
    assert [c["errorCode"] for c in summary["conflicts"]] == ["E7600", "E7617", "E7612"]
    assert summary["rejectedIndexes"] == [0, 1, 2] and summary["importCount"]["ignored"] == 3
    assert await registrations(client) == []
    refused = await client.delete(
        PATH, params={"ds": DATA_SET, "pe": "202401", "ou": FAC, "cc": "x"}
    )
    assert refused.status_code == 409 and "`cc`" in refused.json()["message"]


async def test_complete_date_in_a_data_value_set(client: httpx.AsyncClient) -> None:
    body = {
        "dataSet": DATA_SET,
        "period": "202403",
        "orgUnit": FAC,
        "completeDate": "2024-04-02",
        "dataValues": [{"dataElement": ANC1, "value": "3"}],
    }
    response = await client.post("/api/dataValueSets", json=body)
    assert response.json()["response"]["dataSetComplete"] == "2024-04-02", response.text
    [found] = await registrations(client, period="202403")
    assert found["date"] == "2024-04-02"


async def test_the_payload_options_win_over_the_request(client: httpx.AsyncClient) -> None:
    item = {"dataSet": DATA_SET, "period": "202401", "organisationUnit": FAC, "date": "2024-02-03"}
    dry = await client.post(PATH, json={"dryRun": True, "completeDataSetRegistrations": [item]})
    assert dry.json()["response"]["importCount"]["imported"] == 1, dry.text
    assert await registrations(client) == []
    wet = await client.post(
        PATH, params={"dryRun": "true"}, json={"dryRun": False, PATH[5:]: [item]}
    )
    assert wet.json()["response"]["importCount"]["imported"] == 1, wet.text
    assert len(await registrations(client)) == 1
    gone = await client.post(PATH, json={"strategy": "DELETE", PATH[5:]: [item]})
    assert gone.json()["response"]["importCount"]["deleted"] == 1, gone.text
    assert await registrations(client) == []
    scheme = await client.post(PATH, json={"orgUnitIdScheme": "CODE", PATH[5:]: [item]})
    assert scheme.status_code == 409 and scheme.json()["errorCode"] == "E2038"
    assert "`orgUnitIdScheme`" in scheme.json()["message"]
    assert await registrations(client) == []


async def test_stored_by_of_a_registration_and_cc_cp_refused(client: httpx.AsyncClient) -> None:
    item = {"dataSet": DATA_SET, "period": "202401", "organisationUnit": FAC, "date": "2024-02-03"}
    by_options = await client.post(PATH, json={PATH[5:]: [{**item, "cc": "x", "cp": "y"}]})
    assert by_options.status_code == 409 and by_options.json()["errorCode"] == "E2038"
    assert "`cc`" in by_options.json()["message"]
    assert await registrations(client) == []
    too_long = await client.post(PATH, json={PATH[5:]: [{**item, "storedBy": "x" * 256}]})
    assert too_long.json()["response"]["conflicts"][0]["errorCode"] == "E7637"
    created = await client.post(PATH, json={PATH[5:]: [{**item, "storedBy": "bombali"}]})
    assert created.json()["response"]["importCount"]["imported"] == 1, created.text
    [found] = await registrations(client)
    assert found["storedBy"] == "bombali"
