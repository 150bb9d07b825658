"""The per-object fields of a tracker payload: those DHIS2 keeps are kept or refused by name
(E2038, nothing written), those its import model drops are ignored here too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.sectoral_platform.tracker.payload_fields import IGNORED
from tests.sectoral_platform.conftest import FACILITIES
from tests.sectoral_platform.test_tracker_relationships import MOTHER_CHILD, setup_types
from tests.sectoral_platform.tracker_helpers import (
    BCG_DOSE,
    FIRST_NAME,
    PROGRAM,
    WEIGHT,
    child,
    codes,
    sync_import,
    uid,
)

pytestmark = pytest.mark.anyio
Obj = dict[str, Any]
POINT = {"type": "Point", "coordinates": [36.8, -1.3]}


def parts(te: Obj) -> tuple[Obj, Obj]:
    """The enrollment and the birth event of a `child()` payload."""
    enrollment = te["enrollments"][0]
    return enrollment, enrollment["events"][0]


async def read(client: httpx.AsyncClient, kind: str, key: str) -> httpx.Response:
    return await client.get(f"/api/tracker/{kind}/{key}")


# ---- refused: DHIS2 keeps them, the sandbox does not ----
def _combo(te: Obj) -> None:
    parts(te)[1]["attributeOptionCombo"] = "OtherCombo1"


def _options(te: Obj) -> None:
    parts(te)[1]["attributeCategoryOptions"] = "xYerKDKCefk;OtherOptio1"


@pytest.mark.parametrize(
    ("change", "kind", "field"),
    [
        (_combo, "EVENT", "attributeOptionCombo"),
        (_options, "EVENT", "attributeCategoryOptions"),
    ],
)
async def test_a_field_dhis2_keeps_but_the_sandbox_does_not_is_refused_by_name(
    shared_client: httpx.AsyncClient, change: Any, kind: str, field: str
) -> None:
    te = child(first="Refused")
    change(te)
    report = await sync_import(shared_client, {"trackedEntities": [te]}, status=409)
    [refusal] = [e for e in report["validationReport"]["errorReports"] if e["trackerType"] == kind]
    assert refusal["errorCode"] == "E2038" and refusal["args"] == [field]
    assert field in refusal["message"]
    assert set(codes(report)) <= {"E2038", "E5000"}  # children of a refused parent: E5000
    assert report["stats"]["created"] == 0
    assert (await read(shared_client, "trackedEntities", te["trackedEntity"])).status_code == 404


async def test_the_values_dhis2_and_the_sandbox_default_to_are_accepted(
    shared_client: httpx.AsyncClient,
) -> None:
    te = child(first="Defaults", geometry=None)
    enrollment, event = parts(te)
    enrollment.update(notes=[], geometry=None)
    event.update(
        notes=[],
        geometry=None,
        assignedUser=None,
        attributeOptionCombo={"id": "HllvX50cXC0"},
        attributeCategoryOptions="xYerKDKCefk",
    )
    event["dataValues"][0]["providedElsewhere"] = False
    report = await sync_import(shared_client, {"trackedEntities": [te]})
    assert report["status"] == "OK" and report["stats"]["created"] == 4


async def test_an_object_read_back_imports_unchanged(shared_client: httpx.AsyncClient) -> None:
    te = child(first="RoundTrip")
    await sync_import(shared_client, {"trackedEntities": [te]})
    answer = await shared_client.get(
        f"/api/tracker/trackedEntities/{te['trackedEntity']}", params={"fields": "*,enrollments"}
    )
    assert answer.status_code == 200
    report = await sync_import(shared_client, {"trackedEntities": [answer.json()]})
    assert report["status"] == "OK" and report["stats"]["updated"] == 4


# ---- implemented ----
async def test_potential_duplicate_is_kept(shared_client: httpx.AsyncClient) -> None:
    te = child(first="Twin", potentialDuplicate=True)
    await sync_import(shared_client, {"trackedEntities": [te]})
    stored = (await read(shared_client, "trackedEntities", te["trackedEntity"])).json()
    assert stored["potentialDuplicate"] is True
    other = child(first="Single")
    await sync_import(shared_client, {"trackedEntities": [other]})
    stored = (await read(shared_client, "trackedEntities", other["trackedEntity"])).json()
    assert stored["potentialDuplicate"] is False


async def test_enrollment_follow_up_is_kept_and_orders(shared_client: httpx.AsyncClient) -> None:
    te = child(first="FollowUp", events=0)
    enrollment = te["enrollments"][0]
    enrollment.update(enrollment=uid(), followUp=True)
    await sync_import(shared_client, {"trackedEntities": [te]})
    stored = (await read(shared_client, "enrollments", enrollment["enrollment"])).json()
    assert stored["followUp"] is True
    listing = await shared_client.get(
        "/api/tracker/enrollments",
        params={"orgUnits": FACILITIES[0], "order": "followUp:desc", "pageSize": "1"},
    )
    assert listing.status_code == 200, listing.text
    assert listing.json()["enrollments"][0]["followUp"] is True


async def test_client_timestamps_are_kept(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    te, mother = child(first="Clocked"), child(first="Mother", events=1)
    enrollment, event = parts(te)
    enrollment["enrollment"], event["event"] = uid(), uid()
    for obj in (te, enrollment, event):
        obj.update(createdAtClient="2024-03-01T08:15:00Z", updatedAtClient="2024-03-02T09:30:00")
    relationship: Obj = {
        "relationship": uid(),
        "relationshipType": MOTHER_CHILD,
        "createdAtClient": "2024-03-03T10:00:00.000",
        "from": {"trackedEntity": mother["trackedEntity"]},
        "to": {"trackedEntity": te["trackedEntity"]},
    }
    body = {"trackedEntities": [te, mother], "relationships": [relationship]}
    report = await sync_import(client, body)
    assert report["stats"]["created"] == 8
    for kind, key in (
        ("trackedEntities", te["trackedEntity"]),
        ("enrollments", enrollment["enrollment"]),
        ("events", event["event"]),
    ):
        stored = (await read(client, kind, key)).json()
        assert stored["createdAtClient"] == "2024-03-01T08:15:00.000", kind
        assert stored["updatedAtClient"] == "2024-03-02T09:30:00.000", kind
        assert stored["createdAt"] != stored["createdAtClient"]
    stored = (await read(client, "relationships", relationship["relationship"])).json()
    assert stored["createdAtClient"] == "2024-03-03T10:00:00.000"


async def test_an_unreadable_client_timestamp_is_a_parse_error(
    shared_client: httpx.AsyncClient,
) -> None:
    te = child(first="BadClock")
    parts(te)[1]["createdAtClient"] = "yesterday"
    answer = await shared_client.post(
        "/api/tracker", params={"async": "false"}, json={"trackedEntities": [te]}
    )
    assert answer.status_code == 400 and "createdAtClient" in answer.json()["message"]
    assert (await read(shared_client, "trackedEntities", te["trackedEntity"])).status_code == 404


async def test_enrollment_completed_at_dates_a_change_of_status(
    shared_client: httpx.AsyncClient,
) -> None:
    te = child(first="Completed", events=0)
    enrollment = te["enrollments"][0]
    enrollment.update(enrollment=uid(), status="COMPLETED", completedAt="2024-06-01T12:00:00")
    await sync_import(shared_client, {"trackedEntities": [te]})
    path = f"/api/tracker/enrollments/{enrollment['enrollment']}"
    assert (await shared_client.get(path)).json()["completedAt"] == "2024-06-01T12:00:00.000"
    # the status stays: DHIS2 keeps the date it has
    enrollment.update(completedAt="2024-07-01T12:00:00", trackedEntity=te["trackedEntity"])
    await sync_import(shared_client, {"enrollments": [enrollment]})
    assert (await shared_client.get(path)).json()["completedAt"] == "2024-06-01T12:00:00.000"
    enrollment.update(status="ACTIVE")
    await sync_import(shared_client, {"enrollments": [enrollment]})
    assert (await shared_client.get(path)).json()["completedAt"] is None
    enrollment.update(status="CANCELLED", completedAt="2024-08-01")
    await sync_import(shared_client, {"enrollments": [enrollment]})
    assert (await shared_client.get(path)).json()["completedAt"] == "2024-08-01T00:00:00.000"


async def test_event_completed_at_dates_its_completion(shared_client: httpx.AsyncClient) -> None:
    te = child(first="EventDone", events=1)
    event = parts(te)[1]
    event.update(event=uid(), completedAt="2024-03-01T16:00:00")
    await sync_import(shared_client, {"trackedEntities": [te]})
    path = f"/api/tracker/events/{event['event']}"
    assert (await shared_client.get(path)).json()["completedAt"] == "2024-03-01T16:00:00.000"
    event.update(status="ACTIVE", enrollment=(await shared_client.get(path)).json()["enrollment"])
    await sync_import(shared_client, {"events": [event]})
    assert "completedAt" not in (await shared_client.get(path)).json()
    event.update(status="COMPLETED")
    event.pop("completedAt")
    await sync_import(shared_client, {"events": [event]})
    # completed again without a date: now, as DHIS2
    assert (await shared_client.get(path)).json()["completedAt"] > "2024-03-01T16:00:00.000"


# ---- ignored, as DHIS2's import model drops them ----
async def test_fields_dhis2_drops_on_import_are_ignored(client: httpx.AsyncClient) -> None:
    await setup_types(client)
    junk = "ignored-by-dhis2"
    te, mother = child(first="Ignored"), child(first="IgnoredMother", events=0)
    enrollment, event = parts(te)
    enrollment["enrollment"], event["event"] = uid(), uid()
    relationship: Obj = {
        "relationship": uid(),
        "relationshipType": MOTHER_CHILD,
        "from": {"trackedEntity": mother["trackedEntity"]},
        "to": {"trackedEntity": te["trackedEntity"]},
    }
    targets = {
        "TRACKED_ENTITY": [te],
        "ENROLLMENT": [enrollment],
        "EVENT": [event],
        "RELATIONSHIP": [relationship],
        "attribute": te["attributes"],
        "dataValue": event["dataValues"],
    }
    for kind, names in IGNORED.items():
        for obj in targets[kind]:
            obj.update({name: junk for name in names})
    assert set(targets) == set(IGNORED)
    body = {"trackedEntities": [te, mother], "relationships": [relationship]}
    report = await sync_import(client, body)
    assert report["status"] == "OK" and report["stats"]["created"] == 7, report
    reads = {
        "TRACKED_ENTITY": (await read(client, "trackedEntities", te["trackedEntity"])).json(),
        "ENROLLMENT": (await read(client, "enrollments", enrollment["enrollment"])).json(),
        "EVENT": (await read(client, "events", event["event"])).json(),
        "RELATIONSHIP": (await read(client, "relationships", relationship["relationship"])).json(),
    }
    reads["attribute"] = reads["TRACKED_ENTITY"]["attributes"][0]
    reads["dataValue"] = reads["EVENT"]["dataValues"][0]
    for kind, names in IGNORED.items():
        for name in names:
            assert reads[kind].get(name) != junk, (kind, name)
    assert reads["EVENT"]["trackedEntity"] == te["trackedEntity"]
    assert {v["dataElement"] for v in reads["EVENT"]["dataValues"]} == {WEIGHT, BCG_DOSE}


async def test_pre_2_41_names_are_ignored_as_dhis2_2_42_ignores_them(
    shared_client: httpx.AsyncClient,
) -> None:
    """2.42's import model has no `trackedEntityInstance`, `enrollmentDate`, `incidentDate`,
    `eventDate` or `dueDate` (no alias either), and Jackson ignores unknown properties: the import
    goes on as if they were absent."""
    te = child(first="OldNamesOnly")
    old = te.pop("trackedEntity")
    te["trackedEntityInstance"] = old
    enrollment, event = parts(te)
    enrollment["incidentDate"] = "2023-01-01"
    enrollment.pop("occurredAt")
    enrollment["enrollment"], event["event"] = uid(), uid()
    report = await sync_import(shared_client, {"trackedEntities": [te]})
    assert report["status"] == "OK", report
    assert (await read(shared_client, "trackedEntities", old)).status_code == 404
    found = await shared_client.get(
        "/api/tracker/trackedEntities",
        params={"program": PROGRAM, "filter": f"{FIRST_NAME}:eq:OldNamesOnly"},
    )
    [stored] = found.json()["trackedEntities"]
    assert stored["trackedEntity"] != old  # a fresh uid, as for a tracked entity without one
    read_back = (await read(shared_client, "enrollments", enrollment["enrollment"])).json()
    assert not str(read_back.get("occurredAt")).startswith("2023-01-01")

    def without(obj: Obj, new: str, old_name: str) -> None:
        obj[old_name] = obj.pop(new)

    enrolled = child(first="OldEnrollmentDate", events=0)
    without(enrolled["enrollments"][0], "enrolledAt", "enrollmentDate")
    dated = child(first="OldEventDate")
    without(parts(dated)[1], "occurredAt", "eventDate")
    scheduled = child(first="OldDueDate", events=1)
    parts(scheduled)[1].update({"status": "SCHEDULE", "dueDate": "2024-04-01"})
    parts(scheduled)[1].pop("occurredAt")
    for payload, kind, code in (
        (enrolled, "ENROLLMENT", "E1025"),  # no enrollment date
        (dated, "EVENT", "E1031"),  # no occurrence date
        (scheduled, "EVENT", "E1050"),  # neither date
    ):
        report = await sync_import(shared_client, {"trackedEntities": [payload]}, status=409)
        errors = report["validationReport"]["errorReports"]
        assert [(e["trackerType"], e["errorCode"]) for e in errors] == [(kind, code)], errors
        assert (
            await read(shared_client, "trackedEntities", payload["trackedEntity"])
        ).status_code == 404
