"""Open data publications over the API: figures equal analytics, small counts withheld, public
reads without credentials, bad requests refused with nothing stored, no individual data."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import (
    ANC1,
    BCG,
    BEDS,
    DATA_SET,
    DISTRICT_1,
    DISTRICT_2,
    FACILITIES,
    REGION,
    ROOT,
)

pytestmark = pytest.mark.anyio
PERIOD = "202403"
URL = "/api/openData/publications"
# (district 1: two small counts of different values; district 2: one small count, so the
# next smallest cell is withheld too)
ANC1_VALUES = dict(zip(FACILITIES, (2, 3, 40, 1, 12, 30), strict=True))
# one reporting facility per district: 7 is published, 4 withheld, and so its total
BCG_VALUES = {FACILITIES[0]: 7, FACILITIES[3]: 4}
FACILITY_LEVEL = 4


async def report(client: httpx.AsyncClient, values: dict[str, dict[str, int]]) -> None:
    rows = [
        {"dataElement": de, "period": PERIOD, "orgUnit": ou, "value": str(v)}
        for de, by_unit in values.items()
        for ou, v in by_unit.items()
    ]
    answer = await client.post("/api/dataValueSets", json={"dataSet": DATA_SET, "dataValues": rows})
    assert answer.status_code == 200, answer.text


async def publish(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    request = {"dataElements": [ANC1, BCG], "periods": [PERIOD], "orgUnitLevel": FACILITY_LEVEL}
    return await client.post(URL, json={**request, **body})


async def analytics(client: httpx.AsyncClient, de: str, units: list[str]) -> dict[str, str]:
    answer = await client.get(
        "/api/analytics",
        params={"dimension": [f"dx:{de}", f"pe:{PERIOD}", "ou:" + ";".join(units)]},
    )
    assert answer.status_code == 200, answer.text
    return {ou: value for _, _, ou, value in answer.json()["rows"]}


def cell(document: dict[str, Any], de: str, ou: str, key: str = "rows") -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for r in document[key] if r["dataElement"] == de and r["orgUnit"] == ou
    ]
    assert len(found) == 1
    return found[0]


async def test_a_publication_withholds_small_counts_and_equals_analytics_otherwise(
    client: httpx.AsyncClient,
) -> None:
    await report(client, {ANC1: ANC1_VALUES, BCG: BCG_VALUES})
    answer = await publish(client, threshold=5, title="Antenatal care and BCG, March 2024")
    assert answer.status_code == 201, answer.text
    document = answer.json()
    assert answer.headers["location"].endswith(f"{URL}/{document['id']}")
    assert document["threshold"] == 5 and document["totals"] is True
    assert document["orgUnit"]["id"] == ROOT
    assert document["orgUnitLevel"] == {"level": 4, "name": "Facility"}
    shown = {(r["dataElement"], r["orgUnit"]): r["value"] for r in document["rows"]}
    assert shown == {
        (ANC1, FACILITIES[0]): None,  # 2
        (ANC1, FACILITIES[1]): None,  # 3
        (ANC1, FACILITIES[2]): 40,
        (ANC1, FACILITIES[3]): None,  # 1
        (ANC1, FACILITIES[4]): None,  # 12, complementary: 43 - 30 would give the 1 away
        (ANC1, FACILITIES[5]): 30,
        (BCG, FACILITIES[0]): 7,
        (BCG, FACILITIES[3]): None,  # 4
    }
    assert all(r["suppressed"] is (r["value"] is None) for r in document["rows"])
    totals = {(t["dataElement"], t["orgUnit"]): t["value"] for t in document["totalRows"]}
    assert totals == {
        (ANC1, DISTRICT_1): 45,
        (ANC1, DISTRICT_2): 43,
        (BCG, DISTRICT_1): 7,
        (BCG, DISTRICT_2): None,  # 4 alone: a total would be the withheld cell
    }
    assert (document["cellCount"], document["suppressedCellCount"]) == (8, 5)
    assert (document["totalCount"], document["suppressedTotalCount"]) == (4, 1)
    for de in (ANC1, BCG):
        expected = await analytics(client, de, [*FACILITIES, DISTRICT_1, DISTRICT_2])
        for key in ("rows", "totalRows"):
            for row in document[key]:
                if row["dataElement"] == de and row["value"] is not None:
                    assert str(row["value"]) == expected[row["orgUnit"]]
    first = cell(document, ANC1, FACILITIES[2])
    assert first["orgUnitCode"] == "XD-R01-D01-F003" and first["period"] == PERIOD
    assert first["dataElementName"] == "ANC 1st visit" and first["periodName"] == "March 2024"


async def test_anyone_reads_publications_without_credentials_as_json_and_csv(
    client: httpx.AsyncClient,
) -> None:
    await report(client, {ANC1: ANC1_VALUES, BCG: BCG_VALUES})
    published = (await publish(client)).json()
    uid = published["id"]
    public = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with public:
        assert (await public.get(f"{URL}/{uid}")).json() == published
        assert (await public.get(f"/api/42/openData/publications/{uid}.json")).json() == published
        listed = (await public.get(URL)).json()
        assert listed["pager"]["total"] == 1
        [item] = listed["publications"]
        assert (item["id"], item["threshold"], item["cellCount"]) == (uid, 5, 8)
        assert item["suppressedCellCount"] == 5 and item["href"].endswith(f"{URL}/{uid}")
        as_csv = await public.get(f"{URL}/{uid}.csv")
        by_accept = await public.get(f"{URL}/{uid}", headers={"Accept": "text/csv"})
        refused = await public.post(URL, json={"dataElements": [ANC1], "periods": [PERIOD]})
        missing = await public.get(f"{URL}/abcdefghijk")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert by_accept.text == as_csv.text
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == 8 + 4
    assert table[0].keys() >= {"dataElement", "period", "orgUnit", "orgUnitCode", "value"}
    small = [r for r in table if r["orgUnit"] == FACILITIES[0] and r["dataElement"] == ANC1]
    assert small == [{**small[0], "kind": "cell", "value": "", "suppressed": "true"}]
    assert {r["value"] for r in table if r["kind"] == "total"} == {"45", "43", "7", ""}
    assert refused.status_code == 401
    assert refused.json()["httpStatusCode"] == 401
    assert missing.status_code == 404
    assert missing.json() | {"message": ""} == {
        "httpStatus": "Not Found",
        "httpStatusCode": 404,
        "status": "ERROR",
        "message": "",
        "errorCode": "E1005",
    }
    assert (await client.get(URL)).json()["pager"]["total"] == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"dataElements": ["NoSuchElem1"]}, 409, "not found"),
        ({"dataElements": [BEDS]}, 409, "valueType NUMBER"),
        ({"dataElements": ["DwkNhFdnXsi"]}, 409, "valueType TEXT"),
        ({"dataElements": ["UXz7xuGCEhU"]}, 409, "tracker data element"),
        ({"dataElements": ["w75KJ2mc4zz"]}, 409, "tracked entity attribute"),
        ({"dataElements": ["Jr4i0B3JrTA"]}, 409, "is an indicator"),
        ({"dataElements": []}, 400, "non-empty list"),
        ({"periods": ["2024-3"]}, 409, "Period is not valid"),
        ({"periods": ["LAST_MONTH"]}, 409, "relative period"),
        ({"threshold": 1}, 409, "threshold must be from 3"),
        ({"threshold": 2}, 409, "threshold must be from 3"),
        ({"threshold": "5"}, 400, "whole number"),
        ({"orgUnitLevel": 9}, 409, "level is not valid"),
        ({"orgUnitLevel": 2, "orgUnit": DISTRICT_1}, 409, "level is not valid"),
        ({"orgUnitLevel": "NoSuchLevel"}, 409, "level is not valid"),
        ({"orgUnitLevel": None}, 400, "orgUnitLevel"),
        ({"orgUnit": "NoSuchUnit1"}, 409, "Organisation unit is not valid"),
        ({"totals": "yes"}, 400, "totals"),
        ({"individuals": True}, 400, "Unknown properties: individuals"),
    ],
)
async def test_what_cannot_be_published_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, words: str
) -> None:
    answer = await publish(client, **body)
    assert answer.status_code == status, answer.text
    assert answer.json()["status"] == "ERROR" and words in answer.json()["message"]
    assert (await client.get(URL)).json()["pager"]["total"] == 0


async def test_an_averaged_whole_number_is_not_a_count(client: httpx.AsyncClient) -> None:
    element = {
        "name": "Average queue length",
        "shortName": "Average queue length",
        "valueType": "INTEGER_ZERO_OR_POSITIVE",
        "aggregationType": "AVERAGE",
        "domainType": "AGGREGATE",
    }
    created = await client.post("/api/dataElements", json=element)
    answer = await publish(client, dataElements=[created.json()["response"]["uid"]])
    assert answer.status_code == 409
    assert "aggregationType AVERAGE" in answer.json()["message"]
    assert (await client.get(URL)).json()["pager"]["total"] == 0


async def test_a_body_that_is_not_a_json_object_is_a_400(client: httpx.AsyncClient) -> None:
    for content in (b"not json", b"[1, 2]"):
        answer = await client.post(URL, content=content)
        assert answer.status_code == 400, answer.text
    assert (await client.get(URL)).json()["pager"]["total"] == 0


async def test_publishing_needs_the_authority(client: httpx.AsyncClient) -> None:
    roles = {}
    for name, authority in (("Reader", "F_DATAVALUE_ADD"), ("Publisher", "F_OPEN_DATA_PUBLISH")):
        answer = await client.post(
            "/api/userRoles", json={"name": name, "authorities": [authority]}
        )
        roles[name] = answer.json()["response"]["uid"]
        user = {
            "username": name.lower(),
            "firstName": name,
            "surname": "User",
            "password": "Secret123!",
            "userRoles": [{"id": roles[name]}],
            "organisationUnits": [{"id": REGION}],
        }
        assert (await client.post("/api/users", json=user)).status_code == 201
    denied = await client.post(
        URL, auth=("reader", "Secret123!"), json={"dataElements": [ANC1], "periods": [PERIOD]}
    )
    assert denied.status_code == 403 and denied.json()["errorCode"] == "E3000"
    assert (await client.get(URL)).json()["pager"]["total"] == 0
    spec = {"dataElements": [ANC1], "periods": [PERIOD], "orgUnitLevel": 3}
    allowed = await client.post(URL, auth=("publisher", "Secret123!"), json=spec)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["orgUnit"]["id"] == REGION  # the publisher's own area by default
    outside = await client.post(
        URL, auth=("publisher", "Secret123!"), json={**spec, "orgUnit": ROOT}
    )
    assert outside.status_code == 409 and outside.json()["errorCode"] == "E7120"
    assert (await client.get(URL)).json()["pager"]["total"] == 1
