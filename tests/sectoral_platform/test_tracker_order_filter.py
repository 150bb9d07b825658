"""Tracker reads: `order=` (fields, attributes, data elements), data element `filter=` on
events, `updatedAfter`/`updatedWithin`, nested `fields=` — against hand-computed answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, FACILITIES
from tests.sectoral_platform.tracker_helpers import (
    BCG_DOSE,
    BIRTH,
    DOB,
    FIRST_NAME,
    PROGRAM,
    WEIGHT,
    child,
    sync_import,
)

pytestmark = pytest.mark.anyio
# name, date of birth, birth weight, BCG dose (None: not given); imported one by one, in order
PEOPLE = [
    ("Kojo", "2024-03-10", "3100", "true"),
    ("Abena", "2024-01-20", "4000", None),
    ("Yaw", "2024-02-05", "2900", "false"),
    ("Esi", "2024-04-01", "3500", "true"),
]
World = tuple[httpx.AsyncClient, list[dict[str, Any]], list[str]]


@pytest.fixture(scope="module")
async def world(module_settings: SectoralSettings) -> AsyncIterator[World]:
    async with serve_in_process(create_app(module_settings)) as client:
        client.auth = ADMIN
        people, updated = [], []
        for name, dob, weight, bcg in PEOPLE:
            person = child(ou=FACILITIES[0], first=name, dob=dob, events=1)
            values = [{"dataElement": WEIGHT, "value": weight}]
            if bcg is not None:
                values.append({"dataElement": BCG_DOSE, "value": bcg})
            person["enrollments"][0]["events"][0]["dataValues"] = values
            await sync_import(client, {"trackedEntities": [person]})
            stored = await client.get(f"/api/tracker/trackedEntities/{person['trackedEntity']}")
            updated.append(stored.json()["updatedAt"])
            people.append(person)
        yield client, people, updated


async def get(client: httpx.AsyncClient, path: str, *, status: int = 200, **params: Any) -> Any:
    answer = await client.get(f"/api/tracker/{path}", params=params)
    assert answer.status_code == status, answer.text
    return answer.json()


def first_names(body: dict[str, Any]) -> list[str]:
    return [
        next(a["value"] for a in te["attributes"] if a["attribute"] == FIRST_NAME)
        for te in body["trackedEntities"]
    ]


def weights(body: dict[str, Any]) -> list[str]:
    return [
        next(v["value"] for v in ev["dataValues"] if v["dataElement"] == WEIGHT)
        for ev in body["events"]
    ]


async def test_tracked_entity_order(world: World) -> None:
    client, _, _ = world
    tes = "trackedEntities"
    base: dict[str, Any] = {"program": PROGRAM, "orgUnits": FACILITIES[0]}
    by_name = await get(client, tes, **base, order=f"{FIRST_NAME}:asc")
    assert first_names(by_name) == ["Abena", "Esi", "Kojo", "Yaw"]
    by_dob = await get(client, tes, **base, order=f"{DOB}:desc")
    assert first_names(by_dob) == ["Esi", "Kojo", "Yaw", "Abena"]
    newest = await get(client, tes, **base, order="createdAt:desc")
    assert first_names(newest) == ["Esi", "Yaw", "Abena", "Kojo"]
    # filter and order together, paged
    filtered = await get(
        client, tes, **base, filter=f"{DOB}:ge:2024-02-01", order=f"{FIRST_NAME}:desc",
        pageSize=2, totalPages="true",
    )  # fmt: skip
    assert first_names(filtered) == ["Yaw", "Kojo"]
    assert filtered["pager"]["total"] == 3
    assert (await get(client, tes, status=400, **base, order="nonsense:asc"))["status"] == "ERROR"
    assert (await get(client, tes, status=400, **base, order="createdAt:up"))["status"] == "ERROR"
    # DHIS2's enrolledAt: the tracked entity's (first) enrollment date
    enrolled = await get(client, tes, **base, order="enrolledAt:desc")
    assert first_names(enrolled) == ["Esi", "Kojo", "Yaw", "Abena"]
    refused = await client.get(
        "/api/tracker/events", params={"orgUnit": FACILITIES[0], "order": "assignedUser"}
    )
    assert refused.status_code == 409 and refused.json()["errorCode"] == "E2038"
    unknown = await client.get(
        "/api/tracker/events", params={"orgUnit": FACILITIES[0], "order": "nonsense"}
    )
    assert unknown.status_code == 400


async def test_updated_after_and_within(world: World) -> None:
    client, _, updated = world
    base: dict[str, Any] = {"program": PROGRAM, "orgUnits": FACILITIES[0], "order": "createdAt"}
    later = await get(client, "trackedEntities", **base, updatedAfter=updated[2])
    assert first_names(later) == ["Yaw", "Esi"]
    recent = await get(client, "trackedEntities", **base, updatedWithin="1d")
    assert first_names(recent) == ["Kojo", "Abena", "Yaw", "Esi"]
    before = await get(client, "trackedEntities", **base, updatedBefore=updated[0])
    assert first_names(before) == ["Kojo"]
    assert (await get(client, "events", **base, updatedAfter="2999-01-01"))["events"] == []
    await get(client, "trackedEntities", status=400, **base, updatedWithin="yesterday")
    await get(client, "trackedEntities", status=400, **base, updatedAfter="soon")


async def test_event_filters_and_orders(world: World) -> None:
    client, _, _ = world
    base: dict[str, Any] = {"programStage": BIRTH, "orgUnit": FACILITIES[0]}
    heavy = await get(client, "events", **base, filter=f"{WEIGHT}:gt:3000", order=f"{WEIGHT}:desc")
    assert weights(heavy) == ["4000", "3500", "3100"]
    # numbers compare as numbers: 3100 < 10000 although "3100" > "10000" as text
    assert len(weights(await get(client, "events", **base, filter=f"{WEIGHT}:lt:10000"))) == 4
    between = await get(
        client, "events", **base, filter=f"{WEIGHT}:ge:2900:le:3100", order=f"{WEIGHT}:asc"
    )
    assert weights(between) == ["2900", "3100"]
    chosen = await get(
        client, "events", **base, filter=f"{WEIGHT}:in:2900;4000", order="occurredAt"
    )
    assert weights(chosen) == ["4000", "2900"]  # born 2024-01-20, then 2024-02-05
    given = await get(client, "events", **base, filter=f"{BCG_DOSE}:eq:true", order=f"{WEIGHT}")
    assert weights(given) == ["3100", "3500"]
    missing = await get(client, "events", **base, filter=f"{BCG_DOSE}:null")
    assert weights(missing) == ["4000"]
    present = await get(
        client, "events", **base, filter=f"{BCG_DOSE}:!null", order="occurredAt:desc"
    )
    assert weights(present) == ["3500", "3100", "2900"]
    # a data element order ranks events without the value last; a field order breaks ties
    by_dose = await get(client, "events", **base, order=f"{BCG_DOSE}:desc,{WEIGHT}:asc")
    assert weights(by_dose) == ["3100", "3500", "2900", "4000"]
    paged = await get(
        client, "events", **base, order=f"{WEIGHT}:asc", pageSize=3, page=2, totalPages="true"
    )
    assert weights(paged) == ["4000"] and paged["pager"]["total"] == 4
    await get(client, "events", status=400, **base, filter="NoSuchElem1:eq:1")
    await get(client, "events", status=400, **base, filter=f"{WEIGHT}:gt:heavy")
    await get(client, "events", status=400, **base, filter=f"{WEIGHT}:between:1")


async def test_enrollment_order_and_nested_fields(world: World) -> None:
    client, people, _ = world
    base: dict[str, Any] = {"program": PROGRAM, "orgUnits": FACILITIES[0]}
    enrollments = await get(client, "enrollments", **base, order="enrolledAt:desc")
    dates = [e["enrolledAt"][:10] for e in enrollments["enrollments"]]
    assert dates == ["2024-04-01", "2024-03-10", "2024-02-05", "2024-01-20"]
    te = people[0]["trackedEntity"]
    picked = await get(
        client, f"trackedEntities/{te}", fields="trackedEntity,attributes[attribute,value]"
    )
    assert picked == {
        "trackedEntity": te,
        "attributes": [
            {"attribute": FIRST_NAME, "value": "Kojo"},
            {"attribute": DOB, "value": "2024-03-10"},
            {"attribute": "cejWyOfXge6", "value": "Female"},
        ],
    }
    events = await get(
        client, "events", trackedEntity=te, orgUnit=FACILITIES[0],
        fields="event,dataValues[dataElement,value],!event",
    )  # fmt: skip
    assert events["events"] == [
        {"dataValues": [{"dataElement": WEIGHT, "value": "3100"},
                        {"dataElement": BCG_DOSE, "value": "true"}]}
    ]  # fmt: skip
    refused = await client.get(
        f"/api/tracker/trackedEntities/{te}", params={"fields": "attributes~size"}
    )
    assert refused.status_code == 409 and refused.json()["errorCode"] == "E2038"
