"""A JSON data value set is read as it arrives: attributes after `dataValues` apply to a set of one
batch and refuse a larger one, naming them; a malformed document of which nothing was written is a
400 naming the fault (duplicate keys, a bare array, trailing garbage, hostile nesting, gzip)."""

import gzip
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from services.sectoral_platform.aggregate.streamed import BATCH
from tests.sectoral_platform.conftest import ANC1, ANC4, DATA_SET, FACILITIES, ROOT
from tests.sectoral_platform.test_value_set_streaming import JSON, body, rows

pytestmark = pytest.mark.anyio
FAC = FACILITIES[0]


async def stored(client: httpx.AsyncClient, start: str, end: str) -> list[dict[str, str]]:
    found = await client.get(
        "/api/dataValueSets",
        params={"dataSet": DATA_SET, "orgUnit": ROOT, "children": "true",
                "startDate": start, "endDate": end},
    )  # fmt: skip
    values: list[dict[str, str]] = found.json()["dataValues"]
    return values


async def test_attributes_after_the_values_apply_to_a_set_of_one_batch(
    client: httpx.AsyncClient,
) -> None:
    payload = {
        "dataValues": [{"dataElement": ANC1, "value": "5"}, {"dataElement": ANC4, "value": "7"}],
        "dataSet": DATA_SET,
        "orgUnit": FAC,
        "period": "202401",
    }
    response = await client.post("/api/dataValueSets", content=orjson.dumps(payload), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["response"]["importCount"]["imported"] == 2
    values = await stored(client, "2024-01-01", "2024-01-31")
    found = {(v["dataElement"], v["period"], v["orgUnit"], v["value"]) for v in values}
    assert found == {(ANC1, "202401", FAC, "5"), (ANC4, "202401", FAC, "7")}


async def test_an_attribute_after_the_first_batch_is_refused_naming_it(
    client: httpx.AsyncClient,
) -> None:
    values = list(rows("json"))[:-1]  # without the closing `]}`
    values.append('], "attributeOptionCombo": "OtherAoc001"}\n')
    response = await client.post(
        "/api/dataValueSets", content=body(iter(values), fmt="json"), headers=JSON
    )
    assert response.status_code == 409, response.text[:500]
    summary = response.json()["response"]
    assert summary["status"] == "ERROR"
    count = len(values) - 1
    assert summary["description"].startswith(
        f"`attributeOptionCombo` comes after {count} data values, {BATCH} of them already imported"
    )
    assert summary["conflicts"][0]["errorCode"] == "E7600"
    assert summary["importCount"]["imported"] == BATCH
    assert len(await stored(client, "1974-01-01", "2023-12-31")) == BATCH


MALFORMED = {
    "duplicate": (b'{"period": "202401", "period": "202402", "dataValues": []}', "`period` twice"),
    "duplicate values": (b'{"dataValues": [VALUE], "dataValues": []}', "`dataValues` twice"),
    "bare array": (b"[VALUE]", "a data value set must be an object"),
    "string root": (b'"dataValues"', "a data value set must be an object"),
    "values not a list": (b'{"dataValues": {}}', "`dataValues` must be a list"),
    "empty": (b"", "premature EOF"),
    "trailing garbage": (b'{"dataValues": [VALUE]} trailing', "trailing garbage"),
    "second value": (b'{"dataValues": [VALUE, {"value": 1,}]}', "(`dataValues` index 1)"),
    "large value": (b'{"dataValues": [VALUE, {"value": [' + b"0," * 256 + b"0]}]}", "256 parts"),
    "many keys": (b"{" + b"".join(b'"k%d": 0, ' % i for i in range(257)) + b"}", "256 keys"),
    "gzip nesting": (b'{"dataValues": [VALUE, ' + b"[" * 70 + b"]" * 70 + b"]}", "deeper than 64"),
    "gzip cut": (b'{"dataValues": [VALUE]}', "premature EOF"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_malformed_document_is_a_400_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, case: str
) -> None:
    content, named = MALFORMED[case]
    value = orjson.dumps({"dataElement": ANC1, "period": "202401", "orgUnit": FAC, "value": "3"})
    content = content.replace(b"VALUE", value)
    if case.startswith("gzip"):
        content = gzip.compress(content, mtime=0)
        content = content[:-12] if case == "gzip cut" else content
    response = await client.post("/api/dataValueSets", content=content, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "ERROR"
    assert "JSON parse error: " in response.json()["message"]
    assert named in response.json()["message"], response.json()["message"]
    assert await stored(client, "2024-01-01", "2024-01-31") == []


async def test_a_gzip_body_streams_in(client: httpx.AsyncClient) -> None:
    payload = {"dataSet": DATA_SET, "period": "202401", "orgUnit": FAC,
               "dataValues": [{"dataElement": ANC1, "value": "9"}]}  # fmt: skip

    async def chunks() -> AsyncIterator[bytes]:
        packed = gzip.compress(orjson.dumps(payload))
        for start in range(0, len(packed), 7):
            yield packed[start : start + 7]

    response = await client.post(
        "/api/dataValueSets", content=chunks(), headers={**JSON, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 200, response.text
    assert [v["value"] for v in await stored(client, "2024-01-01", "2024-01-31")] == ["9"]
