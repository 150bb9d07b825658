"""The civil register: births and deaths validated, versioned, and each one event in the outbox."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.registries.civil_records import birth
from tests.registries.conftest import HEADERS

pytestmark = pytest.mark.anyio

CRVS = {**HEADERS, "Information-Mediator-Client": "DPI/GOV/CRVS/registries"}
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


async def register(client, registry: str, content: dict[str, Any]):
    return await client.post(
        f"/data/{registry}/1.0/create", json={"write": {"content": content}}, headers=CRVS
    )


async def outbox(client) -> dict[str, Any]:
    response = await client.get("/admin/outbox", headers=ADMIN)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_birth_registration_writes_one_event(client):
    first = await register(client, "births", birth())
    assert first.status_code == 200 and first.json()["content"]["id"] == "BR1"
    second = await register(client, "births", birth("Imani"))
    assert second.json()["content"]["id"] == "BR2"
    box = await outbox(client)
    assert box["total"] == 2 and box["pending"] == 2
    events = box["events"]
    assert [e["eventType"] for e in events] == ["birth-registered", "birth-registered"]
    payload = events[0]["payload"]
    assert payload["civilRegistrationId"] == "BR1"
    assert payload["child"] == birth()["child"]
    assert payload["mother"] == {"givenName": "Zawadi", "familyName": "Okello"}
    assert not any(k in payload for k in ("uin", "vid", "id"))


INVALID = [
    ({"sex": "x"}, "child.sex", "enum"),
    ({"dateOfBirth": "02/01/2026"}, "child.dateOfBirth", "format"),
    ({"placeOfBirth": "XD-NOWHERE"}, "child.placeOfBirth", "facilityCode"),
    ({"placeOfBirth": "XD-R01"}, "child.placeOfBirth", "facilityCode"),
    ({"uin": "2345678901"}, "child.uin", "nationalId"),  # before the schema: any registry
]


async def test_invalid_births_name_field_and_rule_and_change_nothing(client):
    for change, field, rule in INVALID:
        response = await register(client, "births", birth(**change))
        assert response.status_code == 400, change
        error = response.json()["errors"][0]
        assert (error["field"], error["rule"]) == (field, rule)
        assert field in response.json()["detail"] and rule in response.json()["detail"]
    assert (await outbox(client))["total"] == 0
    assert (await client.get("/data/births/1.0", headers=HEADERS)).json()["count"] == 0


async def test_missing_required_and_national_id_are_refused(client):
    content = birth()
    del content["child"]["dateOfBirth"]
    missing = await register(client, "births", content)
    assert missing.json()["errors"][0]["field"] == "child.dateOfBirth"
    assert missing.json()["errors"][0]["rule"] == "required"
    uin = await register(client, "births", {**birth(), "uin": "2345678901"})
    assert uin.status_code == 400 and uin.json()["errors"][0]["field"] == "uin"


async def test_death_registration_references_a_birth_once(client):
    await register(client, "births", birth())
    death = {
        "birthRegistrationId": "BR1",
        "dateOfDeath": "2026-03-04",
        "deceased": {"givenName": "Amani", "familyName": "Okello"},
    }
    unknown = await register(client, "deaths", {**death, "birthRegistrationId": "BR9"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["rule"] == "references"
    registered = await register(client, "deaths", death)
    assert registered.status_code == 200 and registered.json()["content"]["id"] == "DR1"
    twice = await register(client, "deaths", death)
    assert twice.status_code == 409 and "birthRegistrationId" in twice.json()["detail"]
    events = (await outbox(client))["events"]
    assert [(e["eventType"], e["payload"]["civilRegistrationId"]) for e in events] == [
        ("birth-registered", "BR1"),
        ("death-registered", "DR1"),
    ]
    assert events[1]["payload"]["birthRegistrationId"] == "BR1"


async def test_corrections_are_versioned_and_publish_nothing_new(client):
    await register(client, "births", birth())
    corrected = await client.put(
        "/data/births/1.0/update",
        headers=CRVS,
        json={
            "query": {"content": {"id": "BR1"}},
            "write": {"content": {"child": {"givenName": "Amina"}}},
        },
    )
    assert corrected.status_code == 200
    assert corrected.json()["content"]["child"]["givenName"] == "Amina"
    upserted = await client.post(
        "/data/births/1.0/updateOrCreate",
        headers=CRVS,
        json={
            "query": {"content": {"id": "BR1"}},
            "write": {"content": {"registrationDate": "2026-01-05"}},
        },
    )
    assert upserted.status_code == 200
    history = (await client.get("/data/births/1.0/BR1/history", headers=HEADERS)).json()
    assert [v["action"] for v in history["results"]] == ["create", "update", "update"]
    assert history["results"][1]["changes"] == [
        {"path": "child.givenName", "old": "Amani", "new": "Amina"}
    ]
    assert all(v["actor"] == "DPI/GOV/CRVS/registries" for v in history["results"])
    assert (await outbox(client))["total"] == 1
    created = await client.post(
        "/data/births/1.0/updateOrCreate",
        headers=CRVS,
        json={"query": {"content": {"id": "BR7"}}, "write": {"content": birth("Neema")}},
    )
    assert created.json()["content"]["id"] == "BR2"
    assert (await outbox(client))["total"] == 2


async def test_outbox_admin_needs_the_admin_key(client):
    assert (await client.get("/admin/outbox")).status_code == 401
    assert (await client.get("/admin/outbox", headers={"X-DPI-Admin-Key": "x"})).status_code == 401


async def test_concurrent_registrations_get_distinct_numbers_and_one_event_each(client):
    results: list[str] = []

    async def one(n: int) -> None:
        response = await register(client, "births", birth(f"Child{n}"))
        assert response.status_code == 200, response.text
        results.append(response.json()["content"]["id"])

    async with anyio.create_task_group() as group:
        for n in range(12):
            group.start_soon(one, n)
    assert sorted(results, key=lambda k: int(k[2:])) == [f"BR{n}" for n in range(1, 13)]
    events = (await outbox(client))["events"]
    assert sorted(e["payload"]["civilRegistrationId"] for e in events) == sorted(results)
    assert len({e["sourceKey"] for e in events}) == 12
