"""Batch enrolment (`POST /v1/identities/batch`): per-person results in order, duplicates refused
as a single enrolment refuses them, events per person, bad or oversized batches change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.id_registry import ids
from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, auth, codes, envelope

pytestmark = pytest.mark.anyio
BATCH = "/v1/identities/batch"
SECTORS = {"moh-hmis", "moe-emis", "msp-spmis", "dpa-consent", "crvs-registries"}


def person(n: int, **overrides: Any) -> dict[str, Any]:
    return {
        "givenName": f"Zola {n:04d}",
        "familyName": "Mbeki-Tan",
        "dateOfBirth": "1988-06-01",
        "gender": "female" if n % 2 else "male",
        "address": f"{n} Baobab Road",
        **overrides,
    }


async def everyone(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/identities", params={"limit": 500}, headers=ADMIN)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def outbox(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/events/outbox", params={"limit": 500}, headers=ADMIN)
    return response.json()  # type: ignore[no-any-return]


async def enrol_batch(client: httpx.AsyncClient, people: list[dict[str, Any]]) -> httpx.Response:
    return await client.post(BATCH, json={"identities": people}, headers=ADMIN)


async def test_a_batch_enrols_everyone_in_order_as_single_enrolments_would(client):
    people = [person(n) for n in range(5)]
    response = await enrol_batch(client, people)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["enrolled"] == 5 and body["refused"] == 0
    uins = [item["UIN"] for item in body["results"]]
    assert [item["status"] for item in body["results"]] == [201] * 5
    assert len(set(uins)) == 5 and all(ids.is_valid_uin(uin) for uin in uins)
    for data, uin in zip(people, uins, strict=True):
        read = (await client.get(f"/v1/identities/{uin}", headers=ADMIN)).json()
        assert read["identity"]["givenName"] == [{"language": "eng", "value": data["givenName"]}]
        assert read["identity"]["address"][0]["value"] == data["address"]
        assert read["status"] == "ACTIVATED" and read["blocked"] is False
    # a later single enrolment of one of them is refused, naming the UIN the batch issued
    again = await client.post("/v1/identities", json=people[3], headers=ADMIN)
    assert again.status_code == 409 and uins[3] in again.text


async def test_duplicates_are_refused_naming_the_stored_or_earlier_record(client):
    stored = await client.post("/v1/identities", json=person(1), headers=ADMIN)
    stored_uin = stored.json()["UIN"]
    civil = await client.post(
        "/v1/identities", json=person(2, civilRegistrationId="BR-9"), headers=ADMIN
    )
    before = await everyone(client)
    batch = [
        person(10),
        person(1, givenName="ZOLA 0001", familyName="mbeki tan"),  # the stored person again
        person(11, civilRegistrationId="BR-9"),  # a stored birth registration
        person(10, phone="+999 700 000 000"),  # the batch's first person again
        person(12, civilRegistrationId="BR-10"),
        person(13, civilRegistrationId="BR-10"),  # the same birth as the one before
        person(14),
    ]
    body = (await enrol_batch(client, batch)).json()
    results = body["results"]
    assert [item["status"] for item in results] == [201, 409, 409, 409, 201, 409, 201]
    assert body["enrolled"] == 3 and body["refused"] == 4
    single = (await client.post("/v1/identities", json=person(1), headers=ADMIN)).json()
    assert results[1]["errors"] == single["errors"]  # the very error of a single enrolment
    assert codes(results[2]) == ["IDR-IDC-003"] and civil.json()["UIN"] in str(results[2])
    assert stored_uin in str(results[1])
    assert results[0]["UIN"] in str(results[3]) and results[4]["UIN"] in str(results[5])
    after = await everyone(client)
    assert len(after) == len(before) + 3  # the refused wrote nothing


async def test_each_enrolment_publishes_its_event_with_per_sector_tokens(client):
    before = len(await outbox(client))
    people = [person(20), person(21, civilRegistrationId="BR-21"), person(20)]
    results = (await enrol_batch(client, people)).json()["results"]
    events = (await outbox(client))[before:]
    assert [event["eventType"] for event in events] == ["identity-created"] * 2
    assert [event["payload"]["civilRegistrationId"] for event in events] == [None, "BR-21"]
    for event, result in zip(events, results, strict=False):
        assert set(event["payload"]["perSubscriber"]) == SECTORS
        assert result["UIN"] not in str(event["payload"])
    # the token published is the one the sector gets when it authenticates the person
    uin = results[1]["UIN"]
    demo = {"name": [{"language": "eng", "value": "Zola 0021 Mbeki-Tan"}], "dob": "1988/06/01"}
    login = await auth(client, envelope(uin, demographics=demo), partner="moe-emis")
    token = login["response"]["authToken"]
    assert events[1]["payload"]["perSubscriber"]["moe-emis"]["token"] == token


async def test_no_event_when_publishing_is_off(make_app):
    async with serve_in_process(make_app(publish_events=False)) as client:
        response = await enrol_batch(client, [person(30), person(31)])
        assert response.json()["enrolled"] == 2
        assert await outbox(client) == []


async def test_a_bad_item_refuses_the_whole_batch_and_changes_nothing(client):
    before = await everyone(client)
    events = await outbox(client)
    for bad in ({"gender": "x"}, {"dateOfBirth": "31/12/1990"}, {"givenName": " "}):
        response = await enrol_batch(client, [person(40), person(41, **bad), person(42)])
        assert response.status_code == 422, bad
        body = response.json()
        assert body["response"] is None and codes(body) == ["IDA-MLC-009"]
        assert "1" in str(body["errors"][0]["details"])  # the index of the bad item
    for body in ({"identities": []}, {"identities": "x"}, [person(43)], {}):
        response = await client.post(BATCH, json=body, headers=ADMIN)
        assert response.status_code == 422, body
    unauthorised = await client.post(BATCH, json={"identities": [person(44)]})
    assert unauthorised.status_code == 401 and codes(unauthorised.json()) == ["KER-ATH-401"]
    assert await everyone(client) == before and await outbox(client) == events


async def test_a_batch_over_the_limit_is_refused_whole(make_app):
    async with serve_in_process(make_app(max_batch_enrolments=3)) as client:
        before = await everyone(client)
        response = await enrol_batch(client, [person(n) for n in range(50, 54)])
        assert response.status_code == 413
        body = response.json()
        assert codes(body) == ["IDA-MLC-009"] and "at most 3" in body["errors"][0]["errorMessage"]
        assert await everyone(client) == before
        assert (await enrol_batch(client, [person(n) for n in range(50, 53)])).status_code == 200


async def test_the_body_limit_grows_with_the_batch_limit(make_app):
    """1,000 people fit in the body a batch may carry (about 2 KiB a person), 1 MiB or not."""
    async with serve_in_process(make_app(max_body_bytes=100_000)) as client:
        people = [person(n, address="x" * 300) for n in range(1000, 2000)]
        response = await enrol_batch(client, people)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["enrolled"] == 1000
        huge = await client.post(
            BATCH, content=b'{"identities": [' + b" " * 2_100_000 + b"]}", headers=ADMIN
        )
        assert huge.status_code == 413 and codes(huge.json()) == ["IDA-MLC-009"]
