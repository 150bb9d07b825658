"""Tracker payload fields with DHIS2's own rules: notes, geometry, assigned users, and event
updates writing only the data values they name."""

from __future__ import annotations

import httpx
import pytest

from tests.sectoral_platform.test_tracker_payload_fields import POINT, parts, read
from tests.sectoral_platform.tracker_helpers import (
    BCG_DOSE,
    BIRTH,
    PERSON,
    PROGRAM,
    WEIGHT,
    child,
    codes,
    sync_import,
    uid,
)

pytestmark = pytest.mark.anyio


async def test_notes_are_added_never_changed(shared_client: httpx.AsyncClient) -> None:
    te = child(first="Noted", events=1)
    enrollment, event = parts(te)
    enrollment["enrollment"], event["event"] = uid(), uid()
    first = uid()
    enrollment["notes"] = [{"note": first, "value": "Mother asks about the next visit"}]
    event["notes"] = [{"value": "Weighed twice"}, {"value": "  "}]  # a blank one is ignored
    report = await sync_import(shared_client, {"trackedEntities": [te]}, reportMode="WARNINGS")
    assert report["validationReport"]["warningReports"] == []
    stored = (await read(shared_client, "enrollments", enrollment["enrollment"])).json()
    [note] = stored["notes"]
    assert note["note"] == first and note["value"] == "Mother asks about the next visit"
    assert note["storedBy"] and note["storedAt"]
    [event_note] = (await read(shared_client, "events", event["event"])).json()["notes"]
    assert event_note["value"] == "Weighed twice" and len(event_note["note"]) == 11
    # a second import adds; a note uid already taken (here or elsewhere) is a warning, ignored
    enrollment.update(trackedEntity=te["trackedEntity"])
    enrollment["notes"] = [
        {"note": first, "value": "Changed text"},
        {"note": event_note["note"], "value": "Stolen uid"},
        {"value": "Second visit booked"},
    ]
    enrollment.pop("events")
    report = await sync_import(shared_client, {"enrollments": [enrollment]}, reportMode="WARNINGS")
    warnings = report["validationReport"]["warningReports"]
    assert [(w["errorCode"], w["args"]) for w in warnings] == [
        ("E1119", [first]),
        ("E1119", [event_note["note"]]),
    ]
    stored = (await read(shared_client, "enrollments", enrollment["enrollment"])).json()
    assert [n["value"] for n in stored["notes"]] == [
        "Mother asks about the next visit",
        "Second visit booked",
    ]


async def test_geometry_must_match_the_declared_feature_type(client: httpx.AsyncClient) -> None:
    te = child(first="Located", geometry=POINT)
    refused = await sync_import(client, {"trackedEntities": [te]}, status=409)
    [error] = [e for e in refused["validationReport"]["errorReports"] if e["errorCode"] != "E5000"]
    assert (error["errorCode"], error["args"]) == ("E1012", ["NONE"])  # Person declares none
    assert (await read(client, "trackedEntities", te["trackedEntity"])).status_code == 404
    declared = [
        ("trackedEntityTypes", PERSON, "POINT"),
        ("programs", PROGRAM, "POLYGON"),
        ("programStages", BIRTH, "POINT"),
    ]
    for collection, key, feature in declared:
        patch = [{"op": "add", "path": "/featureType", "value": feature}]
        answer = await client.patch(f"/api/{collection}/{key}", json=patch)
        assert answer.status_code in (200, 204), answer.text
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    enrollment, event = parts(te)
    enrollment.update(enrollment=uid(), geometry=square)
    event.update(event=uid(), geometry={"type": "Point", "coordinates": [36.9, -1.2]})
    report = await sync_import(client, {"trackedEntities": [te]})
    assert report["stats"]["created"] == 4
    stored = (await read(client, "trackedEntities", te["trackedEntity"])).json()
    assert stored["geometry"] == POINT
    assert (await read(client, "enrollments", enrollment["enrollment"])).json()[
        "geometry"
    ] == square
    assert (await read(client, "events", event["event"])).json()["geometry"]["coordinates"] == [
        36.9,
        -1.2,
    ]
    for wrong in (square, {"type": "Point", "coordinates": ["east", "south"]}, "here"):
        other = child(first="Misplaced", geometry=wrong)
        report = await sync_import(client, {"trackedEntities": [other]}, status=409)
        assert ("E1012", ["POINT"]) in [
            (e["errorCode"], e["args"]) for e in report["validationReport"]["errorReports"]
        ]


async def test_an_event_update_writes_only_the_data_values_it_names(
    shared_client: httpx.AsyncClient,
) -> None:
    te = child(first="Weighed", events=1)
    event = parts(te)[1]
    event["event"] = uid()
    event["dataValues"][1]["providedElsewhere"] = True  # the BCG dose, given at another clinic
    await sync_import(shared_client, {"trackedEntities": [te]})
    path = f"/api/tracker/events/{event['event']}"
    before = {v["dataElement"]: v for v in (await shared_client.get(path)).json()["dataValues"]}
    assert before[BCG_DOSE]["providedElsewhere"] is True
    assert before[WEIGHT]["providedElsewhere"] is False
    enrollment = (await shared_client.get(path)).json()["enrollment"]
    update = {
        **event,
        "enrollment": enrollment,
        "dataValues": [{"dataElement": WEIGHT, "value": "3300"}],
    }
    await sync_import(shared_client, {"events": [update]})
    after = {v["dataElement"]: v for v in (await shared_client.get(path)).json()["dataValues"]}
    assert after[WEIGHT]["value"] == "3300" and after[BCG_DOSE] == before[BCG_DOSE]
    assert after[WEIGHT]["createdAt"] == before[WEIGHT]["createdAt"]
    update["dataValues"] = [{"dataElement": BCG_DOSE, "value": None}]
    update["status"] = "ACTIVE"
    await sync_import(shared_client, {"events": [update]})
    values = (await shared_client.get(path)).json()["dataValues"]
    assert [(v["dataElement"], v["value"]) for v in values] == [(WEIGHT, "3300")]


async def test_a_user_is_assigned_where_the_stage_allows_it(client: httpx.AsyncClient) -> None:
    te = child(first="Assigned", events=1)
    event = parts(te)[1]
    event.update(event=uid(), assignedUser={"username": "admin"})
    report = await sync_import(client, {"trackedEntities": [te]}, reportMode="WARNINGS")
    [warning] = report["validationReport"]["warningReports"]
    assert (warning["errorCode"], warning["args"]) == ("E1120", [BIRTH])
    path = f"/api/tracker/events/{event['event']}"
    assert "assignedUser" not in (await client.get(path)).json()
    patch = [{"op": "add", "path": "/enableUserAssignment", "value": True}]
    answer = await client.patch(f"/api/programStages/{BIRTH}", json=patch)
    assert answer.status_code == 200, answer.text
    event["enrollment"] = (await client.get(path)).json()["enrollment"]
    await sync_import(client, {"events": [event]})
    assigned = (await client.get(path)).json()["assignedUser"]
    assert assigned["username"] == "admin" and len(assigned["uid"]) == 11
    event.pop("assignedUser")  # an update without one keeps the assignment
    await sync_import(client, {"events": [event]})
    assert (await client.get(path)).json()["assignedUser"] == assigned
    event["assignedUser"] = {"uid": assigned["uid"]}  # by uid alone
    await sync_import(client, {"events": [event]})
    assert (await client.get(path)).json()["assignedUser"]["username"] == "admin"
    event["assignedUser"] = {"username": "nobody-here"}
    report = await sync_import(client, {"events": [event]}, status=409)
    assert (
        codes(report) == ["E1118"]
        and "nobody-here" in report["validationReport"]["errorReports"][0]["message"]
    )
