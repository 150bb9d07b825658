"""The GovStack Data API on a configured registry: every operation, paging, filters."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from services.kernel.topology import service_url
from tests.registries.conftest import HEADERS, mediated

pytestmark = pytest.mark.anyio

PEOPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "primaryKey": True, "personalId": True},
        "firstName": {"type": "string", "minLength": 1},
        "lastName": {"type": "string"},
        "birthCertificateId": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    "required": ["firstName", "lastName"],
    "additionalProperties": False,
}

PEOPLE = [
    {
        "id": "P1",
        "firstName": "John",
        "lastName": "Smith",
        "age": 30,
        "address": {"city": "Kazaga"},
    },
    {"id": "P2", "firstName": "Johanna", "lastName": "Doe", "age": 41, "address": {"city": "Sule"}},
    {"id": "P3", "firstName": "Amani", "lastName": "Johns", "age": 30, "address": {"city": "Sule"}},
    {"id": "P4", "firstName": "Zawadi", "lastName": "Okello", "age": 25},
    {"id": "P5", "firstName": "Baraka", "lastName": "Smith", "age": 52},
]

_counter = itertools.count(1)


class People:
    """A `people` registry of its own for one test: name, code and base path."""

    def __init__(self, client: httpx.AsyncClient, name: str = "people", code: str = "PPL") -> None:
        self.client, self.name, self.code = client, name, code
        self.base = f"/data/{name}/1.0"

    async def make(self, records: list[dict[str, Any]] = PEOPLE) -> int:
        body = {
            "code": self.code,
            "name": self.name,
            "version": "1.0",
            "group_name": "Test",
            "schema": PEOPLE_SCHEMA,
        }
        created = await self.client.post("/database/modify", json=body, headers=HEADERS)
        assert created.status_code == 200, created.text
        assert created.json() == PEOPLE_SCHEMA
        for record in records:
            response = await self.client.post(
                f"{self.base}/create", json={"write": {"content": record}}, headers=HEADERS
            )
            assert response.status_code == 200, response.text
        return int(created.headers["Location"].rsplit("/", 1)[1])

    async def listing(self, **params: Any) -> httpx.Response:
        return await self.client.get(self.base, params=params, headers=HEADERS)

    async def ids(self, **params: Any) -> list[str]:
        response = await self.listing(**params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["results"]]


async def make_people(client: httpx.AsyncClient, records: list[dict[str, Any]] = PEOPLE) -> int:
    """The registry `people/1.0` (code `PPL`) with `records`, on a test's own database."""
    return await People(client).make(records)


@pytest.fixture
def client(shared_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return shared_client


@pytest.fixture
def people(shared_client: httpx.AsyncClient) -> People:
    n = next(_counter)
    return People(shared_client, name=f"people{n}", code=f"PPL{n}")


async def test_create_returns_content_and_generates_keys(client, people):
    await people.make([])
    given = await client.post(
        f"{people.base}/create", json={"write": {"content": PEOPLE[0]}}, headers=HEADERS
    )
    assert given.status_code == 200 and given.json() == {"content": PEOPLE[0]}
    generated = await client.post(
        f"{people.base}/create",
        json={"write": {"content": {"firstName": "Neema", "lastName": "Ali"}}},
        headers=HEADERS,
    )
    assert generated.json()["content"] == {
        "id": f"{people.code}1",
        "firstName": "Neema",
        "lastName": "Ali",
    }
    duplicate = await client.post(
        f"{people.base}/create", json={"write": {"content": PEOPLE[0]}}, headers=HEADERS
    )
    assert duplicate.status_code == 409 and "P1" in duplicate.json()["detail"]
    assert (await people.listing()).json()["count"] == 2


async def test_list_pages_with_next_and_previous_links(client, people):
    await people.make()
    first = (await people.listing(pageSize=2)).json()
    assert first["count"] == 5 and [r["id"] for r in first["results"]] == ["P1", "P2"]
    assert "previous" not in first  # a string in the spec, never null
    second = (await client.get(first["next"], headers=HEADERS)).json()
    assert [r["id"] for r in second["results"]] == ["P3", "P4"]
    third = (await client.get(second["next"], headers=HEADERS)).json()
    assert [r["id"] for r in third["results"]] == ["P5"] and "next" not in third
    back = (await client.get(third["previous"], headers=HEADERS)).json()
    assert back == second
    via = {**HEADERS, "X-Road-Service": "DPI/GOV/CRVS/registries/data"}
    proxied = (await client.get(people.base, params={"pageSize": 2}, headers=via)).json()
    mediator = service_url("interop_layer")
    assert proxied["next"] == (
        f"{mediator}/r1/DPI/GOV/CRVS/registries/data/{people.name}/1.0?pageSize=2&page=2"
    )
    beyond = await people.listing(page=4, pageSize=2)
    assert beyond.status_code == 404 and beyond.json() == {"detail": "Invalid page."}


async def test_search_filter_query_and_ordering(client, people):
    await people.make()
    assert await people.ids(search="joh") == ["P1", "P2", "P3"]
    assert await people.ids(search="joh", filter="firstName") == ["P1", "P2"]
    assert await people.ids(search="SULE") == ["P2", "P3"]
    assert await people.ids(search="^Joh?n$") == ["P1"]
    assert await people.ids(search="smith|OKELLO") == ["P1", "P4", "P5"]
    assert await people.ids(search="^J", filter="lastName") == ["P3"]
    assert await people.ids(search="(unclosed") == []
    assert await people.ids(**{"query.lastName": "Smith"}) == ["P1", "P5"]
    assert await people.ids(**{"query.age": "30", "query.address.city": "Sule"}) == ["P3"]
    assert await people.ids(filter="address") == ["P1", "P2", "P3"]
    assert await people.ids(ordering="descending") == ["P5", "P4", "P3", "P2", "P1"]
    assert await people.ids(ordering="age") == ["P4", "P1", "P3", "P2", "P5"]
    assert await people.ids(ordering="-firstName", pageSize=2) == ["P4", "P1"]
    response = (await people.listing(search="smith", ordering="descending")).json()
    assert response["count"] == 2 and [r["id"] for r in response["results"]] == ["P5", "P1"]


MALFORMED = [
    ({"query.shoeSize": "40"}, "shoeSize"),
    ({"filter": "nope"}, "nope"),
    ({"ordering": "-height"}, "height"),
    ({"sort": "age"}, "sort"),
    ({"pageSize": "0"}, "pageSize"),
    ({"page": "x"}, "page"),
]


async def test_malformed_queries_are_400(client, people):
    await people.make(PEOPLE[:1])
    for params, needle in MALFORMED:
        response = await people.listing(**params)
        assert response.status_code == 400, params
        assert needle in response.json()["detail"], params


async def test_exists_and_read(client, people):
    await people.make()
    found = await client.post(
        f"{people.base}/exists", json={"query": {"content": {"lastName": "Smith"}}}, headers=HEADERS
    )
    assert found.json() == {"answer": {"status": True, "message": "Object found from database"}}
    missing = await client.post(
        f"{people.base}/exists", json={"query": {"content": {"lastName": "X"}}}, headers=HEADERS
    )
    assert missing.json()["answer"]["status"] is False
    read = await client.post(
        f"{people.base}/read",
        json={"query": {"content": {"address": {"city": "Sule"}, "age": 30}}},
        headers=HEADERS,
    )
    assert read.status_code == 200 and read.json() == {"content": PEOPLE[2]}
    absent = await client.post(
        f"{people.base}/read", json={"query": {"content": {"id": "P9"}}}, headers=HEADERS
    )
    assert absent.status_code == 404 and absent.json() == {"detail": "no record found"}
    malformed = await client.post(f"{people.base}/read", json={"query": {}}, headers=HEADERS)
    assert malformed.status_code == 400 and "content" in malformed.json()["detail"]


async def test_update_changes_exactly_one_record(client, people):
    await people.make()
    put = await client.put(
        f"{people.base}/update",
        json={
            "query": {"content": {"id": "P1"}},
            "write": {"content": {"address": {"city": "Mote"}}},
        },
        headers=HEADERS,
    )
    assert put.status_code == 200
    assert put.json()["content"] == {**PEOPLE[0], "address": {"city": "Mote"}}
    ambiguous = await client.put(
        f"{people.base}/update",
        json={"query": {"content": {"lastName": "Smith"}}, "write": {"content": {"age": 1}}},
        headers=HEADERS,
    )
    assert ambiguous.status_code == 409
    none = await client.put(
        f"{people.base}/update",
        json={"query": {"content": {"id": "P9"}}, "write": {"content": {"age": 1}}},
        headers=HEADERS,
    )
    assert none.status_code == 404 and none.json() == {"detail": "no record found"}
    invalid = await client.put(
        f"{people.base}/update",
        json={"query": {"content": {"id": "P2"}}, "write": {"content": {"age": -3}}},
        headers=HEADERS,
    )
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0] == {
        "field": "age",
        "rule": "minimum",
        "message": "-3 is less than the minimum of 0",
    }
    rekey = await client.put(
        f"{people.base}/update",
        json={"query": {"content": {"id": "P2"}}, "write": {"content": {"id": "P7"}}},
        headers=HEADERS,
    )
    assert rekey.status_code == 400 and "primary key" in rekey.json()["detail"]
    assert await people.ids(**{"query.age": "1"}) == []
    assert await people.ids(**{"query.age": "41"}) == ["P2"]


async def test_update_entries_is_all_or_nothing(client, people):
    await people.make()
    many = await client.put(
        f"{people.base}/updateEntries",
        json={
            "query": {"content": {"age": 30}},
            "write": {"content": {"birthCertificateId": "RR-1"}},
        },
        headers=HEADERS,
    )
    assert many.status_code == 200 and many.json() == {"count": 2}
    assert await people.ids(**{"query.birthCertificateId": "RR-1"}) == ["P1", "P3"]
    none = await client.put(
        f"{people.base}/updateEntries",
        json={"query": {"content": {"age": 99}}, "write": {"content": {"lastName": "X"}}},
        headers=HEADERS,
    )
    assert none.status_code == 404
    invalid = await client.put(
        f"{people.base}/updateEntries",
        json={"query": {"content": {"lastName": "Smith"}}, "write": {"content": {"firstName": ""}}},
        headers=HEADERS,
    )
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["rule"] == "minLength"
    assert await people.ids(**{"query.firstName": ""}) == []
    no_query = await client.put(
        f"{people.base}/updateEntries", json={"write": {"content": {"age": 1}}}, headers=HEADERS
    )
    assert no_query.status_code == 400


async def test_update_or_create(client, people):
    await people.make()
    updated = await client.post(
        f"{people.base}/updateOrCreate",
        json={"query": {"content": {"id": "P4"}}, "write": {"content": {"age": 26}}},
        headers=HEADERS,
    )
    assert updated.status_code == 200 and updated.json()["content"] == {**PEOPLE[3], "age": 26}
    created = await client.post(
        f"{people.base}/updateOrCreate",
        json={
            "query": {"content": {"id": "P6"}},
            "write": {"content": {"id": "P6", "firstName": "Imani", "lastName": "Said"}},
        },
        headers=HEADERS,
    )
    assert created.status_code == 200 and created.json()["content"]["id"] == "P6"
    assert (await people.listing()).json()["count"] == 6


async def test_delete_and_read_value(client, people):
    await people.make()
    value = await client.get(f"{people.base}/P2/readValue/firstName.json", headers=HEADERS)
    assert value.status_code == 200 and value.json() == {"value": "Johanna"}
    nested = await client.get(f"{people.base}/P2/readValue/address.city.txt", headers=HEADERS)
    assert nested.status_code == 200 and nested.text == "Sule"
    whole = await client.get(f"{people.base}/P2/readValue/address.txt", headers=HEADERS)
    assert whole.text == '{"city": "Sule"}'
    assert (
        await client.get(f"{people.base}/P4/readValue/address.json", headers=HEADERS)
    ).status_code == 404
    assert (
        await client.get(f"{people.base}/P2/readValue/firstName.xml", headers=HEADERS)
    ).status_code == 400
    deleted = await client.delete(f"{people.base}/P2/delete", headers=HEADERS)
    assert deleted.status_code == 204 and deleted.content == b""
    again = await client.delete(f"{people.base}/P2/delete", headers=HEADERS)
    assert again.status_code == 404 and again.json() == {"detail": "no record found"}
    gone = await client.get(f"{people.base}/P2/readValue/firstName.json", headers=HEADERS)
    assert gone.status_code == 404
    assert await people.ids() == ["P1", "P3", "P4", "P5"]


async def test_history_says_who_when_and_what(client, people):
    await people.make([PEOPLE[0]])
    other = mediated("DPI/GOV/MOE/emis")
    await client.put(
        f"{people.base}/update",
        headers=other,
        json={"query": {"content": {"id": "P1"}}, "write": {"content": {"age": 31}}},
    )
    await client.delete(f"{people.base}/P1/delete", headers=HEADERS)
    history = (await client.get(f"{people.base}/P1/history", headers=HEADERS)).json()
    assert [(v["version"], v["action"], v["actor"]) for v in history["results"]] == [
        (1, "create", "DPI/GOV/CRVS/registries"),
        (2, "update", "DPI/GOV/MOE/emis"),
        (3, "delete", "DPI/GOV/CRVS/registries"),
    ]
    assert history["results"][1]["changes"] == [{"path": "age", "old": 30, "new": 31}]
    assert history["results"][2]["content"] is None
    stamps = [v["at"] for v in history["results"]]
    assert stamps == sorted(stamps) and all(s.endswith("Z") for s in stamps)


async def test_credentials_and_client_header(client, people):
    await people.make([])
    no_key = await client.get(
        people.base, headers={"Information-Mediator-Client": "DPI/GOV/CRVS/registries"}
    )
    assert no_key.status_code == 401 and "API key" in no_key.json()["detail"]
    wrong = await client.get(people.base, headers={**HEADERS, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    bearer = await client.get(
        people.base, headers={**HEADERS, "Authorization": f"Bearer {HEADERS['Authorization']}"}
    )
    assert bearer.status_code == 200
    no_client = await client.get(people.base, headers={"Authorization": HEADERS["Authorization"]})
    assert (
        no_client.status_code == 400 and "Information-Mediator-Client" in no_client.json()["detail"]
    )
    malformed = await client.get(
        people.base, headers={**HEADERS, "Information-Mediator-Client": "DPI/GOV"}
    )
    assert malformed.status_code == 400
    forwarded = await client.get(people.base, headers=mediated("DPI/GOV/MOE/emis"))
    assert forwarded.status_code == 200
    claimed = await client.get(
        people.base,
        headers={"Authorization": HEADERS["Authorization"], "X-Road-Client": "DPI/GOV/MOE/emis"},
    )
    assert claimed.status_code == 403 and "X-Road-Client" in claimed.json()["detail"]
    unknown = await client.get("/data/nothing/1.0", headers=HEADERS)
    assert unknown.status_code == 404 and unknown.json() == {
        "detail": "no registry named 'nothing'."
    }


async def test_personal_data_usage_answers_who_read_and_why(client, people):
    await people.make()
    teacher = mediated(
        "DPI/GOV/MOE/emis",
        **{"X-Road-UserId": "XD Mary Jane", "X-DPI-Purpose": "school-enrolment"},
    )
    await client.post(
        f"{people.base}/read", json={"query": {"content": {"id": "P3"}}}, headers=teacher
    )
    await people.listing(**{"query.age": "30"})
    await client.get(f"{people.base}/P1/readValue/age.json", headers=HEADERS)
    usage = await client.get(
        "/data/myPersonalDataUsage",
        params={"userId": "P3", "databaseId": people.code},
        headers=HEADERS,
    )
    assert usage.status_code == 200
    entries = usage.json()
    assert [(e["operation"], e["readerApplicationName"], e["purpose"]) for e in entries] == [
        ("list", "DPI/GOV/CRVS/registries", None),
        ("read", "DPI/GOV/MOE/emis", "school-enrolment"),
    ]
    teacher_read = entries[1]
    assert teacher_read["readerId"] == "XD Mary Jane" and teacher_read["readerInitials"] == "XMJ"
    assert "readerInitials" not in entries[0]  # a reader known by a code only: no initials
    assert teacher_read["readerInstitutionId"] == "DPI/GOV/MOE"
    assert teacher_read["readerInstitutionName"] == "Education (school information system)"
    assert teacher_read["refrences"] == [{"ReferenceID": "P3"}]
    by_name = await client.get(
        "/data/myPersonalDataUsage",
        params={"userId": "P1", "databaseId": people.name},
        headers=HEADERS,
    )
    assert [e["operation"] for e in by_name.json()] == ["readValue", "list"]
    never = await client.get(
        "/data/myPersonalDataUsage",
        params={"userId": "P4", "databaseId": people.code},
        headers=HEADERS,
    )
    assert never.status_code == 200 and never.json() == []
    unknown = await client.get(
        "/data/myPersonalDataUsage", params={"userId": "P4", "databaseId": "X"}, headers=HEADERS
    )
    assert unknown.status_code == 404
    missing = await client.get(
        "/data/myPersonalDataUsage", params={"userId": "P4"}, headers=HEADERS
    )
    assert missing.status_code == 400 and "databaseId" in missing.json()["detail"]
