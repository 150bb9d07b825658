"""`/api/dataValueSets` (ImportSummary, every conflict type with indexes) and `/api/dataValues`."""

import asyncio
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import (
    ANC1,
    ANC4,
    BCG,
    COC,
    DATA_SET,
    DISTRICT_1,
    FACILITIES,
    LEVEL,
    ROOT,
    STOCKOUT,
)

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]


def value_set(*rows: dict[str, Any], period: str = "202401", org_unit: str = FAC) -> dict[str, Any]:
    return {"dataSet": DATA_SET, "period": period, "orgUnit": org_unit, "dataValues": list(rows)}


async def stored(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    query = {
        "dataSet": DATA_SET,
        "orgUnit": ROOT,
        "children": "true",
        "startDate": "2000-01-01",
        "endDate": "2030-12-31",
        **params,
    }
    response = await client.get("/api/dataValueSets", params=query)
    assert response.status_code == 200, response.text
    values: list[dict[str, Any]] = response.json()["dataValues"]
    return values


async def test_import_summary_on_success(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/dataValueSets",
        json=value_set(
            {"dataElement": ANC1, "value": 12}, {"dataElement": ANC4, "value": "7", "comment": "ok"}
        ),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["httpStatus"] == "OK" and body["status"] == "OK"
    assert body["message"] == "Import was successful."
    summary = body["response"]
    assert summary["responseType"] == "ImportSummary" and summary["status"] == "SUCCESS"
    assert summary["importCount"] == {"imported": 2, "updated": 0, "ignored": 0, "deleted": 0}
    assert summary["conflicts"] == [] and summary["rejectedIndexes"] == []
    assert summary["dataSetComplete"] == "false"
    values = await stored(client)
    by_de = {v["dataElement"]: v for v in values}
    assert by_de[ANC1]["value"] == "12" and by_de[ANC4]["comment"] == "ok"
    assert by_de[ANC1]["categoryOptionCombo"] == COC == by_de[ANC1]["attributeOptionCombo"]
    assert by_de[ANC1]["storedBy"] == "admin" and by_de[ANC1]["followup"] is False


async def test_every_conflict_type_with_indexes(client: httpx.AsyncClient) -> None:
    rows = [
        {"dataElement": ANC1, "value": "5"},  # 0 valid
        {"dataElement": "NoSuchDe001", "value": "1"},  # 1 E7610
        {"dataElement": ANC1, "period": "2024-1", "value": "1"},  # 2 E7611
        {"dataElement": ANC1, "orgUnit": "NoSuchOu001", "value": "1"},  # 3 E7612
        {"dataElement": ANC1, "categoryOptionCombo": "NoSuchCoc01", "value": "1"},  # 4 E7613
        {"dataElement": ANC1, "attributeOptionCombo": "NoSuchAoc01", "value": "1"},  # 5 E7615
        {"dataElement": ANC1, "period": "2024Q1", "value": "1"},  # 6 E7617
        {"dataElement": ANC1},  # 7 E7618
        {"dataElement": ANC1, "period": "202402", "value": "-3"},  # 8 E7619
        {"dataElement": ANC4, "value": "1.5"},  # 9 E7619
        {"dataElement": STOCKOUT, "value": "maybe"},  # 10 E7619
        {"dataElement": LEVEL, "value": "QUATERNARY"},  # 11 E7621
        {"dataElement": ANC1, "orgUnit": DISTRICT_1, "value": "1"},  # 12 E7633
        {"dataElement": ANC1, "period": "209901", "value": "1"},  # 13 E7641
        {"dataElement": BCG, "period": "202403", "value": "x"},  # 14 E7619
        {"dataElement": LEVEL, "value": "PRIMARY"},  # 15 valid
    ]
    response = await client.post("/api/dataValueSets", json=value_set(*rows))
    assert response.status_code == 409
    body = response.json()
    assert body["status"] == "WARNING" and body["httpStatusCode"] == 409
    summary = body["response"]
    assert summary["status"] == "WARNING"
    assert summary["importCount"] == {"imported": 2, "updated": 0, "ignored": 14, "deleted": 0}
    by_code: dict[str, list[int]] = {}
    for conflict in summary["conflicts"]:
        assert set(conflict) == {"object", "objects", "value", "errorCode", "property", "indexes"}
        by_code.setdefault(conflict["errorCode"], []).extend(conflict["indexes"])
    assert {k: sorted(v) for k, v in by_code.items()} == {
        "E7610": [1],
        "E7611": [2],
        "E7612": [3],
        "E7613": [4],
        "E7615": [5],
        "E7617": [6],
        "E7618": [7],
        "E7619": [8, 9, 10, 14],
        "E7621": [11],
        "E7633": [12],
        "E7641": [13],
    }
    assert summary["rejectedIndexes"] == list(range(1, 15))
    period_conflict = next(c for c in summary["conflicts"] if c["errorCode"] == "E7641")
    assert period_conflict["object"] == "209901" and period_conflict["objects"] == {
        "period": "209901"
    }
    assert period_conflict["property"] == "period" and period_conflict["value"].startswith("Period")
    assert sorted(v["dataElement"] for v in await stored(client)) == sorted([ANC1, LEVEL])


async def test_unknown_data_set_is_an_error_and_imports_nothing(client: httpx.AsyncClient) -> None:
    payload = {**value_set({"dataElement": ANC1, "value": "5"}), "dataSet": "NoSuchSet01"}
    response = await client.post("/api/dataValueSets", json=payload)
    assert response.status_code == 409
    assert response.json()["status"] == "ERROR" and response.json()["response"]["status"] == "ERROR"
    assert response.json()["response"]["conflicts"][0]["errorCode"] == "E7600"
    assert await stored(client) == []


async def test_malformed_bodies_are_400(client: httpx.AsyncClient) -> None:
    for content in (b"[1,2]", b"{oops", b'{"dataValues": 3}'):
        response = await client.post(
            "/api/dataValueSets", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400 and response.json()["status"] == "ERROR"
    bad = await client.post(
        "/api/dataValueSets", params={"importStrategy": "SMASH"}, json=value_set()
    )
    assert bad.status_code == 400


async def test_reimport_is_idempotent_and_updates(client: httpx.AsyncClient) -> None:
    rows = [{"dataElement": ANC1, "value": "5"}, {"dataElement": ANC4, "value": "3"}]
    first = (await client.post("/api/dataValueSets", json=value_set(*rows))).json()
    second = (await client.post("/api/dataValueSets", json=value_set(*rows))).json()
    assert first["response"]["importCount"]["imported"] == 2
    assert second["response"]["importCount"] == {
        "imported": 0,
        "updated": 2,
        "ignored": 0,
        "deleted": 0,
    }
    assert len(await stored(client)) == 2
    rows[0]["value"] = "6"
    await client.post("/api/dataValueSets", json=value_set(*rows))
    assert {v["value"] for v in await stored(client)} == {"6", "3"}


async def test_every_field_of_an_imported_value_is_stored_as_sent(
    client: httpx.AsyncClient,
) -> None:
    # PostgreSQL writes new values with COPY: characters its text format escapes come back whole
    comment = "tab\there, a \\ backslash, \\N, a newline\nand é"
    rows: list[dict[str, Any]] = [
        {"dataElement": ANC1, "value": "5", "comment": comment, "followup": True},
        {"dataElement": ANC4, "value": "3"},
    ]
    answer = await client.post("/api/dataValueSets", json=value_set(*rows))
    assert answer.json()["response"]["importCount"]["imported"] == 2
    found = {v["dataElement"]: v for v in await stored(client)}
    assert found[ANC1]["value"] == "5" and found[ANC1]["comment"] == comment
    assert found[ANC1]["followup"] is True
    assert found[ANC4]["followup"] is False and found[ANC4].get("comment") is None
    assert found[ANC1]["storedBy"] == found[ANC4]["storedBy"] != ""


async def test_dry_run_strategies_and_delete(client: httpx.AsyncClient) -> None:
    rows = [{"dataElement": ANC1, "value": "5"}]
    dry = await client.post("/api/dataValueSets", params={"dryRun": "TRUE"}, json=value_set(*rows))
    assert dry.json()["response"]["importCount"]["imported"] == 1
    assert await stored(client) == []
    update_only = await client.post(
        "/api/dataValueSets", params={"importStrategy": "UPDATE"}, json=value_set(*rows)
    )
    assert update_only.json()["response"]["importCount"]["ignored"] == 1
    assert await stored(client) == []
    await client.post("/api/dataValueSets", json=value_set(*rows))
    rows[0]["value"] = "9"
    create_only = await client.post(
        "/api/dataValueSets", params={"importStrategy": "CREATE"}, json=value_set(*rows)
    )
    assert create_only.json()["response"]["importCount"]["ignored"] == 1
    assert (await stored(client))[0]["value"] == "5"
    rows.append({"dataElement": ANC4, "value": "1"})  # never stored: ignored on delete
    deleted = await client.post(
        "/api/dataValueSets", params={"importStrategy": "DELETE"}, json=value_set(*rows)
    )
    assert deleted.json()["response"]["importCount"] == {
        "imported": 0,
        "updated": 0,
        "ignored": 1,
        "deleted": 1,
    }
    assert await stored(client) == []


async def test_empty_value_deletes_and_insignificant_zero_is_ignored(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/api/dataValueSets", json=value_set({"dataElement": ANC1, "value": "5"}))
    cleared = await client.post(
        "/api/dataValueSets", json=value_set({"dataElement": ANC1, "value": ""})
    )
    assert cleared.json()["response"]["importCount"]["deleted"] == 1
    zero = await client.post(
        "/api/dataValueSets", json=value_set({"dataElement": ANC1, "value": "0"})
    )
    assert zero.json()["response"]["importCount"]["ignored"] == 1
    assert await stored(client) == []


async def test_read_parameters(client: httpx.AsyncClient) -> None:
    for period, org_unit in (
        ("202401", FACILITIES[0]),
        ("202402", FACILITIES[0]),
        ("202401", FACILITIES[3]),
    ):
        payload = value_set({"dataElement": ANC1, "value": "1"}, period=period, org_unit=org_unit)
        assert (await client.post("/api/dataValueSets", json=payload)).status_code == 200
    one = (
        await client.get(
            "/api/dataValueSets",
            params={"dataSet": DATA_SET, "period": "202401", "orgUnit": FACILITIES[0]},
        )
    ).json()
    assert (
        one["dataSet"] == DATA_SET and one["period"] == "202401" and one["orgUnit"] == FACILITIES[0]
    )
    assert len(one["dataValues"]) == 1
    assert len(await stored(client)) == 3
    assert len(await stored(client, orgUnit=DISTRICT_1)) == 2
    assert len(await stored(client, children="false")) == 0
    assert len(await stored(client, startDate="2024-02-01", endDate="2024-02-29")) == 1
    by_element = await client.get(
        "/api/dataValueSets",
        params=[
            ("dataElement", ANC1),
            ("orgUnit", FACILITIES[0]),
            ("orgUnit", FACILITIES[3]),
            ("period", "202401"),
        ],
    )
    assert len(by_element.json()["dataValues"]) == 2
    for params, code in (
        ({"orgUnit": ROOT, "period": "202401"}, "E2000"),
        ({"dataSet": DATA_SET, "orgUnit": ROOT}, "E2002"),
        ({"dataSet": DATA_SET, "period": "202401"}, "E2006"),
    ):
        response = await client.get("/api/dataValueSets", params=params)
        assert response.status_code == 409 and response.json()["errorCode"] == code


async def test_single_data_values(client: httpx.AsyncClient) -> None:
    key = {"de": ANC1, "pe": "202401", "ou": FAC, "co": COC}
    assert (await client.get("/api/dataValues", params=key)).status_code == 404
    created = await client.post("/api/dataValues", params={**key, "value": "7"})
    assert created.status_code == 201
    assert (await client.get("/api/dataValues", params=key)).json() == ["7"]
    as_json = await client.post(
        "/api/dataValues",
        json={
            "dataElement": ANC1,
            "period": "202401",
            "orgUnit": FAC,
            "categoryOptionCombo": COC,
            "value": "8",
        },
    )
    assert as_json.status_code == 201
    assert (await client.get("/api/dataValues.json", params=key)).json() == ["8"]
    # the attribute option combo by its category options (DHIS2's `attribute`) is refused
    by_options = await client.post(
        "/api/dataValues",
        json={"dataElement": ANC1, "period": "202401", "orgUnit": FAC, "value": "9",
              "attribute": {"combo": "bjDvmb4bfuf", "options": ["xYerKDKCefk"]}},
    )  # fmt: skip
    assert by_options.status_code == 409 and by_options.json()["errorCode"] == "E2038"
    assert "`attribute`" in by_options.json()["message"]
    assert (await client.get("/api/dataValues", params=key)).json() == ["8"]  # not 9
    invalid = await client.post("/api/dataValues", params={**key, "value": "-1"})
    assert invalid.status_code == 409 and invalid.json()["errorCode"] == "E7619"
    missing = await client.post("/api/dataValues", params={"de": ANC1, "value": "1"})
    assert missing.status_code == 409
    assert (await client.delete("/api/dataValues", params=key)).status_code == 204
    assert (await client.get("/api/dataValues", params=key)).status_code == 404
    assert (await client.delete("/api/dataValues", params=key)).status_code == 404


async def test_capture_scope_limits_writes(client: httpx.AsyncClient) -> None:
    role = await client.post(
        "/api/userRoles", json={"name": "Entry", "authorities": ["F_DATAVALUE_ADD"]}
    )
    await client.post(
        "/api/users",
        json={
            "username": "d1clerk",
            "firstName": "D",
            "surname": "One",
            "password": "Secret123!",
            "userRoles": [{"id": role.json()["response"]["uid"]}],
            "organisationUnits": [{"id": DISTRICT_1}],
        },
    )
    clerk = ("d1clerk", "Secret123!")
    inside = await client.post(
        "/api/dataValueSets", auth=clerk, json=value_set({"dataElement": ANC1, "value": "1"})
    )
    assert inside.status_code == 200
    outside = await client.post(
        "/api/dataValueSets",
        auth=clerk,
        json=value_set({"dataElement": ANC1, "value": "1"}, org_unit=FACILITIES[3]),
    )
    assert outside.status_code == 409
    assert outside.json()["response"]["conflicts"][0]["errorCode"] == "E7620"


async def test_concurrent_imports_of_the_same_values_never_duplicate(
    client: httpx.AsyncClient,
) -> None:
    rows = [
        {"dataElement": de, "period": f"2024{m:02d}", "orgUnit": f, "value": "3"}
        for de in (ANC1, ANC4) for m in range(1, 13) for f in FACILITIES
    ]  # fmt: skip
    payload = {"dataSet": DATA_SET, "dataValues": rows}
    responses = await asyncio.gather(
        *(client.post("/api/dataValueSets", json=payload) for _ in range(4))
    )
    assert all(r.status_code == 200 for r in responses), [r.text[:200] for r in responses]
    counts = [r.json()["response"]["importCount"] for r in responses]
    assert sum(c["imported"] for c in counts) == len(rows)
    assert sum(c["imported"] + c["updated"] for c in counts) == 4 * len(rows)
    assert len(await stored(client)) == len(rows)
