"""A data value set's own options (`dryRun`, `strategy`, id schemes) as DHIS2 applies them: the
payload's over the request's, in JSON (read whole or streamed) and as DXF2 attributes; what the
sandbox does not implement is refused naming it, and what DHIS2 ignores is ignored."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from services.sectoral_platform.aggregate.streamed import BATCH
from tests.sectoral_platform.conftest import ANC1, ANC4, DATA_SET, FACILITIES, ROOT
from tests.sectoral_platform.test_value_set_streaming import JSON, body, rows

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]
XML = {"Content-Type": "application/xml"}
PATH = "/api/dataValueSets"
VALUES = [{"dataElement": ANC1, "value": "5"}, {"dataElement": ANC4, "value": "7"}]


def value_set(**options: Any) -> dict[str, Any]:
    return {"period": "202401", "orgUnit": FAC, "dataValues": VALUES, **options}


async def stored(client: httpx.AsyncClient) -> dict[str, str]:
    found = await client.get(
        PATH,
        params={"dataSet": DATA_SET, "orgUnit": ROOT, "children": "true",
                "startDate": "2024-01-01", "endDate": "2024-01-31"},
    )  # fmt: skip
    assert found.status_code == 200, found.text
    return {v["dataElement"]: v["value"] for v in found.json()["dataValues"]}


async def send(client: httpx.AsyncClient, payload: Any, **params: str) -> httpx.Response:
    return await client.post(PATH, content=orjson.dumps(payload), headers=JSON, params=params)


async def test_dry_run_in_the_payload_writes_nothing_and_wins_over_the_request(
    client: httpx.AsyncClient,
) -> None:
    dry = await send(client, value_set(dryRun=True))
    assert dry.status_code == 200, dry.text
    summary = dry.json()["response"]
    assert summary["importCount"]["imported"] == 2
    assert summary["importOptions"]["dryRun"] is False  # DHIS2's summary shows the request's
    assert await stored(client) == {}
    # the payload's `false` over the request's `true`
    wet = await send(client, value_set(dryRun="false"), dryRun="true")
    assert wet.json()["response"]["importCount"]["imported"] == 2, wet.text
    assert await stored(client) == {ANC1: "5", ANC4: "7"}


async def test_strategy_in_the_payload(client: httpx.AsyncClient) -> None:
    await send(client, {**value_set(), "dataValues": VALUES[:1]})
    changed = [{"dataElement": ANC1, "value": "6"}, {"dataElement": ANC4, "value": "8"}]
    # CREATE: the new value is imported, the existing one left as it was
    created = await send(client, value_set(strategy="CREATE", dataValues=changed))
    assert created.json()["response"]["importCount"] == {
        "imported": 1, "updated": 0, "ignored": 1, "deleted": 0
    }  # fmt: skip
    assert await stored(client) == {ANC1: "5", ANC4: "8"}
    # UPDATE (its legacy name UPDATES): existing values change, nothing new is created
    more = [*changed, {"dataElement": "L8dKLzdocJ2", "value": "1"}]
    updated = await send(client, value_set(strategy="UPDATES", dataValues=more))
    assert updated.json()["response"]["importCount"]["updated"] == 2, updated.text
    assert await stored(client) == {ANC1: "6", ANC4: "8"}
    # the payload's CREATE_AND_UPDATE over the request's DELETE
    kept = await send(client, value_set(strategy="CREATE_AND_UPDATE"), importStrategy="DELETE")
    assert kept.json()["response"]["importCount"]["updated"] == 2, kept.text
    assert await stored(client) == {ANC1: "5", ANC4: "7"}
    # a JSON `importStrategy` is not DHIS2's property (it reads `strategy`): ignored, as there
    ignored = await send(client, value_set(importStrategy="DELETE"))
    assert ignored.json()["response"]["importCount"]["deleted"] == 0
    assert await stored(client) == {ANC1: "5", ANC4: "7"}
    deleted = await send(client, value_set(strategy="DELETE", dataValues=VALUES[:1]))
    assert deleted.json()["response"]["importCount"]["deleted"] == 1, deleted.text
    assert await stored(client) == {ANC4: "7"}


async def test_id_schemes_in_the_payload(client: httpx.AsyncClient) -> None:
    coded = [{"dataElement": "HS_ANC1", "value": "3"}]
    payload = {"period": "202401", "orgUnit": "XD-R01-D01-F001", "dataValues": coded}
    # the payload's `idScheme` names the org unit and the data elements by code
    by_code = await send(client, {**payload, "idScheme": "CODE"})
    assert by_code.json()["response"]["importCount"]["imported"] == 1, by_code.text
    assert await stored(client) == {ANC1: "3"}
    # a specific scheme of the payload over its general one, and over the request's
    mixed = {**payload, "orgUnit": FAC, "dataElementIdScheme": "code", "dataValues": [
        {"dataElement": "HS_ANC4", "value": "4"}]}  # fmt: skip
    response = await send(client, mixed, idScheme="UID", dataElementIdScheme="NAME")
    assert response.json()["response"]["importCount"]["imported"] == 1, response.text
    # DHIS2: the payload's general scheme wins over the request's specific one too
    uid = await send(client, value_set(idScheme="UID"), dataElementIdScheme="CODE")
    assert uid.json()["response"]["importCount"]["updated"] == 2, uid.text
    assert await stored(client) == {ANC1: "5", ANC4: "7"}
    # without a scheme in the payload the request's applies
    by_request = await send(client, {**payload, "orgUnit": FAC}, dataElementIdScheme="CODE")
    assert by_request.json()["response"]["importCount"]["updated"] == 1, by_request.text
    assert await stored(client) == {ANC1: "3", ANC4: "7"}


async def test_dxf2_attributes(client: httpx.AsyncClient) -> None:
    def xml(attrs: str, de: str = ANC1) -> str:
        return (
            f'<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0" period="202401" {attrs}>'
            f'<dataValue dataElement="{de}" value="9"/></dataValueSet>'
        )

    dry = await client.post(PATH, content=xml(f'orgUnit="{FAC}" dryRun="true"'), headers=XML)
    assert dry.json()["response"]["importCount"]["imported"] == 1, dry.text
    assert await stored(client) == {}
    # DHIS2's XML reader takes `dryRun="true"` only: `false` leaves the request's dry run
    still = await client.post(
        PATH, content=xml(f'orgUnit="{FAC}" dryRun="false"'), headers=XML, params={"dryRun": "true"}
    )
    assert still.json()["response"]["importCount"]["imported"] == 1, still.text
    assert await stored(client) == {}
    coded = xml('orgUnit="XD-R01-D01-F001" idScheme="CODE"', "HS_ANC1")
    wet = await client.post(PATH, content=coded, headers=XML)
    assert wet.json()["response"]["importCount"]["imported"] == 1, wet.text
    assert await stored(client) == {ANC1: "9"}
    # the XML attribute is `importStrategy`
    gone = await client.post(
        PATH, content=xml(f'orgUnit="{FAC}" importStrategy="DELETE"'), headers=XML
    )
    assert gone.json()["response"]["importCount"]["deleted"] == 1, gone.text
    assert await stored(client) == {}


@pytest.mark.parametrize(
    ("options", "named", "code"),
    [
        ({"attributeCategoryOptions": ["abcdefghijk"]}, "`attributeCategoryOptions`", "E2038"),
        ({"strategy": "SYNC"}, "`strategy=SYNC`", "E2038"),
        ({"strategy": "delete"}, "`strategy` in the payload: `delete`", None),
        ({"dryRun": "maybe"}, "`dryRun` in the payload: `maybe`", None),
        ({"orgUnitIdScheme": "EMAIL"}, "`orgUnitIdScheme` in the data value set: `EMAIL`", None),
    ],
)
@pytest.mark.parametrize("asynchronous", [False, True])
async def test_refused_options_name_themselves_and_write_nothing(
    client: httpx.AsyncClient,
    options: dict[str, Any],
    named: str,
    code: str | None,
    asynchronous: bool,
) -> None:
    params = {"async": "true"} if asynchronous else {}
    response = await send(client, value_set(**options), **params)
    assert response.status_code == 409, response.text
    assert named in response.json()["message"]
    assert response.json().get("errorCode") == code
    assert await stored(client) == {}


async def test_the_request_strategy_names(client: httpx.AsyncClient) -> None:
    await send(client, value_set())
    deleted = await send(client, value_set(), importStrategy="DELETES")
    assert deleted.json()["response"]["importCount"]["deleted"] == 2, deleted.text
    sync = await send(client, value_set(), importStrategy="SYNC")
    assert sync.status_code == 409 and sync.json()["errorCode"] == "E2038"
    assert "`importStrategy=SYNC`" in sync.json()["message"]


async def test_async_import_applies_the_payload_options(client: httpx.AsyncClient) -> None:
    response = await send(client, value_set(dryRun=True), **{"async": "true"})
    job = response.json()["response"]
    deadline = time.monotonic() + 10
    while not (await client.get(job["relativeNotifierEndpoint"])).json()[0]["completed"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    summary = await client.get(f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}")
    assert summary.json()["importCount"]["imported"] == 2
    assert await stored(client) == {}


@pytest.mark.parametrize(("key", "value"), [("dryRun", "true"), ("idScheme", '"CODE"')])
async def test_an_option_after_the_first_batch_is_refused_naming_it(
    client: httpx.AsyncClient, key: str, value: str
) -> None:
    values = list(rows("json"))[:-1]  # without the closing `]}`
    values.append(f'], "{key}": {value}}}\n')
    response = await client.post(PATH, content=body(iter(values), fmt="json"), headers=JSON)
    assert response.status_code == 409, response.text[:500]
    summary = response.json()["response"]
    assert summary["status"] == "ERROR"
    assert summary["description"].startswith(f"`{key}` comes after {len(values) - 1} data values")
    assert summary["importCount"]["imported"] == BATCH


async def test_an_option_before_the_values_applies_to_a_streamed_set(
    client: httpx.AsyncClient,
) -> None:
    values = list(rows("json"))

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"dryRun": true, "dataValues": [\n'
        for start in range(0, len(values), 500):
            yield "".join(values[start : start + 500]).encode()

    response = await client.post(PATH, content=stream(), headers=JSON)
    assert response.status_code == 200, response.text[:500]
    assert response.json()["response"]["importCount"]["imported"] == len(values) - 1 > BATCH
    found = await client.get(
        PATH,
        params={"dataSet": DATA_SET, "orgUnit": ROOT, "children": "true",
                "startDate": "1974-01-01", "endDate": "2023-12-31"},
    )  # fmt: skip
    assert found.json()["dataValues"] == []


async def test_stored_by_of_a_value(client: httpx.AsyncClient) -> None:
    values = [{**VALUES[0], "storedBy": "bombali"}, {**VALUES[1], "storedBy": " "}]
    response = await send(client, value_set(dataValues=values))
    assert response.json()["response"]["importCount"]["imported"] == 2, response.text
    csv = f"{ANC1},202402,{FAC},,,4,kenema\n"
    response = await client.post(
        PATH, content=csv, headers={"Content-Type": "application/csv"},
        params={"firstRowIsHeader": "false"},
    )  # fmt: skip
    assert response.json()["response"]["importCount"]["imported"] == 1, response.text
    found = await client.get(
        PATH,
        params={"dataSet": DATA_SET, "orgUnit": FAC, "startDate": "2024-01-01",
                "endDate": "2024-02-29"},
    )  # fmt: skip
    by = {(v["dataElement"], v["period"]): v["storedBy"] for v in found.json()["dataValues"]}
    assert by == {(ANC1, "202401"): "bombali", (ANC4, "202401"): "admin",
                  (ANC1, "202402"): "kenema"}  # fmt: skip
    too_long = await send(client, value_set(dataValues=[{**VALUES[0], "storedBy": "x" * 256}]))
    [conflict] = too_long.json()["response"]["conflicts"]
    assert conflict["errorCode"] == "E7637" and conflict["property"] == "storedBy"


async def test_a_value_marked_deleted(client: httpx.AsyncClient) -> None:
    await send(client, value_set())
    marked = [{**VALUES[0], "deleted": True}]
    kept = await send(client, value_set(strategy="CREATE", dataValues=marked))
    assert kept.json()["response"]["importCount"]["ignored"] == 1, kept.text
    assert await stored(client) == {ANC1: "5", ANC4: "7"}
    gone = await send(client, value_set(dataValues=marked))
    assert gone.json()["response"]["importCount"]["deleted"] == 1, gone.text
    assert await stored(client) == {ANC4: "7"}
    # a new value sent deleted counts as imported (DHIS2 saves it soft-deleted) and stays unseen
    new = await send(client, value_set(dataValues=marked))
    assert new.json()["response"]["importCount"]["imported"] == 1, new.text
    assert await stored(client) == {ANC4: "7"}
    csv = f"{ANC4},202401,{FAC},,,7,,,,false,true\n"
    response = await client.post(
        PATH, content=csv, headers={"Content-Type": "application/csv"},
        params={"firstRowIsHeader": "false"},
    )  # fmt: skip
    assert response.json()["response"]["importCount"]["deleted"] == 1, response.text
    assert await stored(client) == {}


async def test_an_invalid_request_scheme_is_named_as_sent(client: httpx.AsyncClient) -> None:
    response = await send(client, value_set(), idScheme="EMAIL")
    assert response.status_code == 409
    assert response.json()["message"].startswith("Invalid `idScheme`: `EMAIL`")
    assert await stored(client) == {}
