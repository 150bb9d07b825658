"""`POST /api/tracker`: nested and flat payloads, every validation code, modes, async jobs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.db import Database
from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.tracker.bundle import ImportParams
from services.sectoral_platform.tracker.jobs import JobRunner
from tests.sectoral_platform.conftest import ADMIN, DISTRICT_1, FACILITIES
from tests.sectoral_platform.tracker_helpers import (
    BIRTH,
    DOB,
    FIRST_NAME,
    MEASLES,
    PERSON,
    PROGRAM,
    SEX,
    TOKEN,
    WEIGHT,
    child,
    codes,
    job_report,
    sync_import,
    uid,
)

pytestmark = pytest.mark.anyio


async def test_nested_import_round_trip(shared_client: httpx.AsyncClient) -> None:
    te = child(first="Kofi", token=f"psut-{uid()}")
    report = await sync_import(shared_client, {"trackedEntities": [te]})
    assert report["status"] == "OK" and report["message"] is None
    assert report["stats"] == {"created": 4, "updated": 0, "deleted": 0, "ignored": 0, "total": 4}
    type_map = report["bundleReport"]["typeReportMap"]
    assert set(type_map) == {"TRACKED_ENTITY", "ENROLLMENT", "EVENT", "RELATIONSHIP"}
    assert type_map["EVENT"]["stats"]["created"] == 2
    assert type_map["TRACKED_ENTITY"]["objectReports"][0]["uid"] == te["trackedEntity"]
    read = await shared_client.get(
        f"/api/tracker/trackedEntities/{te['trackedEntity']}", params={"fields": "*,enrollments"}
    )
    assert read.status_code == 200
    body = read.json()
    assert body["trackedEntityType"] == PERSON and body["orgUnit"] == FACILITIES[0]
    values = {a["attribute"]: a["value"] for a in body["attributes"]}
    assert values[FIRST_NAME] == "Kofi" and values[SEX] == "Female"
    assert all(isinstance(a["value"], str) for a in body["attributes"])
    [enrollment] = body["enrollments"]
    assert (
        enrollment["program"] == PROGRAM and enrollment["enrolledAt"] == "2024-03-01T00:00:00.000"
    )
    stages = {e["programStage"]: e for e in enrollment["events"]}
    assert {d["dataElement"]: d["value"] for d in stages[BIRTH]["dataValues"]} == {
        WEIGHT: "3100",
        "bx6fsa0t90x": "true",
    }
    single = await shared_client.get(f"/api/tracker/enrollments/{enrollment['enrollment']}")
    assert single.json()["trackedEntity"] == te["trackedEntity"]
    assert len(single.json()["events"]) == 2


async def test_flat_payload(shared_client: httpx.AsyncClient) -> None:
    te, en, ev = uid(), uid(), uid()
    nested = child(te=te, events=0)
    enrollment = {**nested.pop("enrollments")[0], "enrollment": en, "trackedEntity": te}
    event = {
        "event": ev,
        "enrollment": en,
        "program": PROGRAM,
        "programStage": BIRTH,
        "orgUnit": FACILITIES[0],
        "occurredAt": "2024-03-02T10:30:00.000",
        "status": "ACTIVE",
        "dataValues": [{"dataElement": WEIGHT, "value": 2900}],
    }
    body = {"trackedEntities": [nested], "enrollments": [enrollment], "events": [event]}
    report = await sync_import(shared_client, body)
    assert report["stats"]["created"] == 3
    stored = (await shared_client.get(f"/api/tracker/events/{ev}")).json()
    assert stored["enrollment"] == en and stored["trackedEntity"] == te
    assert stored["occurredAt"] == "2024-03-02T10:30:00.000"
    assert stored["dataValues"][0]["value"] == "2900"


async def _errors(client: httpx.AsyncClient, te: dict[str, Any], **params: str) -> list[str]:
    report = await sync_import(client, {"trackedEntities": [te]}, status=409, **params)
    assert report["status"] == "ERROR"
    assert report["stats"]["created"] == 0 and report["stats"]["ignored"] >= 1
    read = await client.get(f"/api/tracker/trackedEntities/{te['trackedEntity']}")
    assert read.status_code == 404  # atomicMode=ALL: nothing written
    return codes(report)


async def test_every_documented_error_code(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    assert "E1005" in await _errors(c, child(trackedEntityType="Unknown0001"))
    assert "E1049" in await _errors(c, child(orgUnit="Unknown0002"))
    bad_program = child()
    bad_program["enrollments"][0]["program"] = "Unknown0003"
    assert "E1069" in await _errors(c, bad_program)
    bad_stage = child()
    bad_stage["enrollments"][0]["events"][0]["programStage"] = "Unknown0004"
    assert "E1013" in await _errors(c, bad_stage)
    unassigned = child()
    unassigned["enrollments"][0]["orgUnit"] = DISTRICT_1  # exists, not assigned to the program
    assert "E1041" in await _errors(c, unassigned)
    event_unassigned = child()
    event_unassigned["enrollments"][0]["events"][0]["orgUnit"] = DISTRICT_1
    assert "E1029" in await _errors(c, event_unassigned)
    assert "E1085" in await _errors(c, child(dob="not-a-date"))
    bad_option = child()
    bad_option["attributes"][2]["value"] = "Unknown"
    assert "E1125" in await _errors(c, bad_option)
    bad_value = child()
    bad_value["enrollments"][0]["events"][0]["dataValues"][0]["value"] = "heavy"
    assert "E1302" in await _errors(c, bad_value)
    no_name = child()
    no_name["attributes"] = [a for a in no_name["attributes"] if a["attribute"] != FIRST_NAME]
    assert "E1090" in await _errors(c, no_name)
    no_dob = child()
    no_dob["attributes"] = [a for a in no_dob["attributes"] if a["attribute"] != DOB]
    assert "E1018" in await _errors(c, no_dob)
    foreign = child()
    foreign["enrollments"][0]["events"][1]["dataValues"][0] = {"dataElement": WEIGHT, "value": "9"}
    assert "E1305" in await _errors(c, foreign)
    assert "E1048" in await _errors(c, child(te="not-a-uid"))
    error = (await sync_import(c, {"trackedEntities": [child(orgUnit="Unknown0002")]}, 409))[
        "validationReport"
    ]["errorReports"][0]
    assert error["trackerType"] == "TRACKED_ENTITY" and error["args"] == ["Unknown0002"]
    assert "Unknown0002" in error["message"] and set(error) == {
        "message",
        "errorCode",
        "trackerType",
        "uid",
        "args",
    }


async def test_unique_attribute_clash_in_store_and_in_payload(
    shared_client: httpx.AsyncClient,
) -> None:
    token = f"psut-{uid()}"
    await sync_import(shared_client, {"trackedEntities": [child(token=token)]})
    assert "E1064" in await _errors(shared_client, child(token=token))
    twins = {"trackedEntities": [child(token=f"t-{token}"), child(token=f"t-{token}")]}
    report = await sync_import(shared_client, twins, status=409)
    assert codes(report) == ["E1064"] + ["E5000"] * 3  # then its enrollment and two events


async def test_enrollment_rules(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    te = child()
    await sync_import(c, {"trackedEntities": [te]})
    again = {
        "program": PROGRAM,
        "trackedEntity": te["trackedEntity"],
        "orgUnit": FACILITIES[0],
        "enrolledAt": "2024-05-01",
    }
    report = await sync_import(c, {"enrollments": [again]}, status=409)
    assert codes(report) == ["E1015"]  # already an active enrollment
    # a program that allows one enrollment only, and a program without registration
    once, events_only = uid(), uid()
    metadata = {
        "programs": [
            {
                "id": once,
                "name": f"Once {once}",
                "shortName": f"Once {once}",
                "programType": "WITH_REGISTRATION",
                "trackedEntityType": {"id": PERSON},
                "onlyEnrollOnce": True,
                "organisationUnits": [{"id": FACILITIES[0]}],
            },
            {
                "id": events_only,
                "name": f"Events {events_only}",
                "shortName": f"Events {events_only}",
                "programType": "WITHOUT_REGISTRATION",
                "organisationUnits": [{"id": FACILITIES[0]}],
            },
        ]
    }
    assert (await c.post("/api/metadata", json=metadata)).status_code == 200
    first = {**again, "program": once, "status": "COMPLETED", "enrollment": uid()}
    await sync_import(c, {"enrollments": [first]})
    closed = {**again, "program": once, "enrollment": uid()}
    assert codes(await sync_import(c, {"enrollments": [closed]}, status=409)) == ["E1016"]
    event_into_closed = {
        "enrollment": first["enrollment"],
        "programStage": BIRTH,
        "program": PROGRAM,
        "orgUnit": FACILITIES[0],
        "occurredAt": "2024-05-02",
    }
    report = await sync_import(c, {"events": [event_into_closed]}, status=409)
    # the enrollment is completed, and of another program than the event's
    assert codes(report) == ["E1037", "E1079"]
    no_registration = {**again, "program": events_only, "enrollment": uid()}
    assert codes(await sync_import(c, {"enrollments": [no_registration]}, status=409)) == ["E1014"]


async def test_event_into_a_completed_enrollment_is_refused(
    shared_client: httpx.AsyncClient,
) -> None:
    te = child(events=0)
    te["enrollments"][0]["status"] = "COMPLETED"
    te["enrollments"][0]["enrollment"] = enrollment = uid()
    await sync_import(shared_client, {"trackedEntities": [te]})
    event = {
        "enrollment": enrollment,
        "programStage": BIRTH,
        "orgUnit": FACILITIES[0],
        "occurredAt": "2024-05-02",
        "dataValues": [{"dataElement": WEIGHT, "value": "3000"}],
    }
    report = await sync_import(shared_client, {"events": [event]}, status=409)
    assert codes(report) == ["E1037"]
    orphan = {**event, "enrollment": uid()}
    assert codes(await sync_import(shared_client, {"events": [orphan]}, status=409)) == ["E1033"]


async def test_atomic_object_writes_the_valid_objects_and_cascades(
    shared_client: httpx.AsyncClient,
) -> None:
    good, bad = child(), child(trackedEntityType="Unknown0001")
    body = {"trackedEntities": [good, bad]}
    report = await sync_import(shared_client, body, status=409, atomicMode="OBJECT")
    assert report["status"] == "ERROR"
    assert codes(report).count("E5000") == 3  # bad's enrollment, then its two events
    tes = report["bundleReport"]["typeReportMap"]["TRACKED_ENTITY"]
    assert tes["stats"] == {"created": 1, "updated": 0, "deleted": 0, "ignored": 1, "total": 2}
    read = await shared_client.get(f"/api/tracker/trackedEntities/{good['trackedEntity']}")
    assert read.status_code == 200
    missing = await shared_client.get(f"/api/tracker/trackedEntities/{bad['trackedEntity']}")
    assert missing.status_code == 404


async def test_validate_mode_writes_nothing(shared_client: httpx.AsyncClient) -> None:
    te = child()
    report = await sync_import(shared_client, {"trackedEntities": [te]}, importMode="VALIDATE")
    assert report["status"] == "OK" and report["stats"]["created"] == 0
    read = await shared_client.get(f"/api/tracker/trackedEntities/{te['trackedEntity']}")
    assert read.status_code == 404


async def test_import_strategies(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    te = child(token=f"psut-{uid()}")
    report = await sync_import(c, {"trackedEntities": [te]}, importStrategy="UPDATE", status=409)
    assert "E1063" in codes(report)
    await sync_import(c, {"trackedEntities": [te]}, importStrategy="CREATE")
    assert "E1002" in codes(
        await sync_import(c, {"trackedEntities": [te]}, importStrategy="CREATE", status=409)
    )
    renamed = {**te, "enrollments": [], "attributes": [{"attribute": FIRST_NAME, "value": "Efua"}]}
    report = await sync_import(c, {"trackedEntities": [renamed]})
    assert report["stats"]["updated"] == 1
    stored = (await c.get(f"/api/tracker/trackedEntities/{te['trackedEntity']}")).json()
    values = {a["attribute"]: a["value"] for a in stored["attributes"]}
    assert values[FIRST_NAME] == "Efua" and values[TOKEN] == te["attributes"][3]["value"]
    filtered = await c.get(
        "/api/tracker/trackedEntities",
        params={"program": PROGRAM, "filter": f"{FIRST_NAME}:eq:efua", "orgUnitMode": "ALL"},
    )
    assert te["trackedEntity"] in {t["trackedEntity"] for t in filtered.json()["trackedEntities"]}
    gone = {"trackedEntities": [{"trackedEntity": te["trackedEntity"]}]}
    report = await sync_import(c, gone, importStrategy="DELETE")
    assert report["stats"]["deleted"] == 1
    assert (await c.get(f"/api/tracker/trackedEntities/{te['trackedEntity']}")).status_code == 404
    events = await c.get("/api/tracker/events", params={"trackedEntity": te["trackedEntity"]})
    assert events.json()["events"] == []  # the enrollment and events went with it
    # the unique token is free again once its holder is deleted
    await sync_import(c, {"trackedEntities": [child(token=te["attributes"][3]["value"])]})


async def test_report_modes_and_bad_parameters(shared_client: httpx.AsyncClient) -> None:
    full = await sync_import(shared_client, {"trackedEntities": [child()]}, reportMode="FULL")
    assert "timingsStats" in full
    errors = await sync_import(shared_client, {"trackedEntities": [child()]}, reportMode="ERRORS")
    assert "timingsStats" not in errors
    bad = await shared_client.post(
        "/api/tracker", params={"async": "false", "atomicMode": "SOME"}, json={}
    )
    assert bad.status_code == 400 and bad.json()["status"] == "ERROR"
    garbage = await shared_client.post(
        "/api/tracker", params={"async": "false"}, content=b"{not json"
    )
    assert garbage.status_code == 400
    anonymous = await shared_client.post(
        "/api/tracker", json={}, auth=httpx.BasicAuth("admin", "wrong")
    )
    assert anonymous.status_code == 401


async def test_async_job_flow(shared_client: httpx.AsyncClient) -> None:
    te = child()
    response = await shared_client.post("/api/tracker", json={"trackedEntities": [te]})
    assert response.status_code == 200
    body = response.json()
    assert body["httpStatus"] == "OK" and body["message"] == "Tracker job added"
    job = body["response"]["id"]
    assert body["response"]["location"] == f"http://test/api/tracker/jobs/{job}"
    report = await job_report(shared_client, job)
    assert report["status"] == "OK" and report["stats"]["created"] == 4
    log = (await shared_client.get(f"/api/tracker/jobs/{job}")).json()
    assert log[0]["completed"] is True and log[0]["category"] == "TRACKER_IMPORT_JOB"
    assert (await shared_client.get("/api/tracker/jobs/Unknown0001")).status_code == 404
    failing = await shared_client.post(
        "/api/tracker", json={"trackedEntities": [child(orgUnit="Unknown0002")]}
    )
    failed = await job_report(shared_client, failing.json()["response"]["id"])
    assert failed["status"] == "ERROR" and codes(failed)[0] == "E1049"


async def test_accepted_job_survives_a_restart(settings: SectoralSettings) -> None:
    """A job accepted but not yet run (the process stopped) runs at the next start."""
    async with serve_in_process(create_app(settings)):
        pass
    database = Database(settings.database())
    runner = JobRunner(database.engine, MetadataStore(database.engine))
    te = child(first="Yaa")
    job = runner.submit(
        body={"trackedEntities": [te]}, params=ImportParams(), user="M5zQapPyTZI", capture=None
    )
    database.engine.dispose()
    async with serve_in_process(create_app(settings)) as client:
        client.auth = ADMIN
        report = await job_report(client, job)
        assert report["status"] == "OK"
        read = await client.get(f"/api/tracker/trackedEntities/{te['trackedEntity']}")
        assert read.status_code == 200


async def test_a_non_repeatable_stage_takes_one_event(shared_client: httpx.AsyncClient) -> None:
    te = child()
    await sync_import(shared_client, {"trackedEntities": [te]})
    stored = await shared_client.get(
        "/api/tracker/events", params={"trackedEntity": te["trackedEntity"], "orgUnitMode": "ALL",
                                       "programStage": BIRTH},
    )  # fmt: skip
    [birth] = stored.json()["events"]
    second = {"enrollment": birth["enrollment"], "programStage": BIRTH, "orgUnit": FACILITIES[0],
              "occurredAt": "2024-03-05",
              "dataValues": [{"dataElement": WEIGHT, "value": "3300"}]}  # fmt: skip
    assert codes(await sync_import(shared_client, {"events": [second]}, status=409)) == ["E1039"]
    updated = {**second, "event": birth["event"]}  # the same event again is an update
    assert (await sync_import(shared_client, {"events": [updated]}))["stats"]["updated"] == 1


async def test_second_measles_dose_is_a_repeatable_stage(shared_client: httpx.AsyncClient) -> None:
    te = child()
    await sync_import(shared_client, {"trackedEntities": [te]})
    enrollment = (
        await shared_client.get(
            "/api/tracker/enrollments",
            params={"trackedEntity": te["trackedEntity"], "orgUnitMode": "ALL"},
        )
    ).json()["enrollments"][0]["enrollment"]
    second = {
        "enrollment": enrollment,
        "programStage": "ZzYYXq4fJie",
        "orgUnit": FACILITIES[0],
        "occurredAt": "2025-06-01",
        "dataValues": [{"dataElement": MEASLES, "value": "true"}],
    }
    assert (await sync_import(shared_client, {"events": [second]}))["stats"]["created"] == 1
