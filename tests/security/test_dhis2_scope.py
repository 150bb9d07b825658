"""DHIS2 data scope on the sectoral platform: capture, data view and tracker search org units
hold on every read and write path (the seeded admin, district officer and facility clerk)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_in_process
from services.sectoral_platform.auth.deps import current_scope
from services.sectoral_platform.identity.models import VerificationOutcome
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import (
    ANC1,
    COC,
    DATA_SET,
    DISTRICT_1,
    DISTRICT_2,
    QUIET,
    ROOT,
)
from tests.sectoral_platform.tracker_helpers import PROGRAM, child, job_report, sync_import
from tests.security.dhis2_scope_support import (
    ADMIN,
    CLERK,
    FAR,
    NAMES,
    NEIGHBOUR,
    OFFICER,
    OWN,
    PERIOD,
    UNSCOPED,
    VALUES,
    api_routes,
    depends_on,
    first_names,
    populate,
    probes,
)

pytestmark = pytest.mark.anyio
World = tuple[httpx.AsyncClient, FastAPI, dict[str, dict[str, str]]]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def scope_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SectoralSettings]:
    from tests import conftest as root

    tmp = tmp_path_factory.mktemp("dhis2scope")
    with root.scratch_database("scope", tmp / "scope.db") as url:
        yield SectoralSettings(database_url=url, data_dir=tmp / "data", log_format="text", **QUIET)


@pytest.fixture(scope="module")
async def world(scope_settings: SectoralSettings) -> AsyncIterator[World]:
    app = create_app(scope_settings)
    async with serve_in_process(app) as client:
        client.auth = ADMIN
        uids = await populate(client)
        job = await client.post("/api/tracker", json={"trackedEntities": [child(ou=FAR)]})
        uids[FAR]["job"] = job.json()["response"]["id"]
        await job_report(client, uids[FAR]["job"])
        with kernel_state(app).database.engine.begin() as conn:
            conn.execute(
                insert(VerificationOutcome.__table__),  # type: ignore[attr-defined]
                [
                    {"tracked_entity": uids[ou]["trackedEntity"], "status": "VERIFIED",
                     "error_code": None, "updated": "2026-01-01T00:00:00.000"}
                    for ou in (OWN, FAR)
                ],
            )  # fmt: skip
        yield client, app, uids


async def get(client: httpx.AsyncClient, user: tuple[str, str], path: str, **params: Any) -> Any:
    return await client.get(path, params=params, auth=user)


# ---- the three leaks, closed ----
async def test_facility_clerk_cannot_search_all_org_units(world: World) -> None:
    client, _, _ = world
    for path in ("trackedEntities", "enrollments", "events"):
        answer = await get(
            client, CLERK, f"/api/tracker/{path}", program=PROGRAM, orgUnitMode="ALL"
        )
        assert answer.status_code == 403, answer.text
        assert answer.json()["message"] == (
            "User is not authorized to query across all organisation units"
        )
        assert not any(name in answer.text for name in NAMES.values())


async def test_facility_clerk_cannot_read_another_facilitys_values(world: World) -> None:
    client, _, _ = world
    for org_units in ([FAR], [OWN, NEIGHBOUR]):
        answer = await get(
            client, CLERK, "/api/dataValueSets", dataSet=DATA_SET, period=PERIOD, orgUnit=org_units
        )
        assert answer.status_code == 409 and answer.json()["errorCode"] == "E2012"
        message = f"User is not allowed to view org unit: `{org_units[-1]}`"
        assert answer.json()["message"] == message
    children = await get(
        client, CLERK, "/api/dataValueSets", dataSet=DATA_SET, period=PERIOD,
        orgUnit=DISTRICT_1, children="true",
    )  # fmt: skip
    assert children.status_code == 409 and children.json()["errorCode"] == "E2012"
    single = await get(client, CLERK, "/api/dataValues", de=ANC1, pe=PERIOD, ou=NEIGHBOUR, co=COC)
    assert single.status_code == 409 and single.json()["errorCode"] == "E2012"
    assert VALUES[NEIGHBOUR] not in single.text


async def test_facility_clerk_cannot_read_national_analytics(world: World) -> None:
    client, _, _ = world
    for ou in (ROOT, DISTRICT_2, FAR, f"{OWN};{FAR}"):
        answer = await get(
            client, CLERK, "/api/analytics", dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", f"ou:{ou}"]
        )
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert body["errorCode"] == "E7120" and "facility_clerk" in body["message"]
    level = await get(
        client, CLERK, "/api/analytics", dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", "ou:LEVEL-4"]
    )
    assert [row[-1] for row in level.json()["rows"]] == [VALUES[OWN]]  # LEVEL-n within scope


# ---- what each role does see ----
async def test_facility_clerk_sees_its_own_facility(world: World) -> None:
    client, _, uids = world
    own = await get(client, CLERK, "/api/dataValueSets", dataSet=DATA_SET, period=PERIOD,
                    orgUnit=OWN)  # fmt: skip
    assert [v["value"] for v in own.json()["dataValues"]] == [VALUES[OWN]]
    single = await get(client, CLERK, "/api/dataValues", de=ANC1, pe=PERIOD, ou=OWN, co=COC)
    assert single.json() == [VALUES[OWN]]
    for mode in ("ACCESSIBLE", "CAPTURE"):
        found = await get(client, CLERK, "/api/tracker/trackedEntities", program=PROGRAM,
                          orgUnitMode=mode)  # fmt: skip
        assert first_names(found.json()) == [NAMES[OWN]]
    selected = await get(client, CLERK, "/api/tracker/trackedEntities", program=PROGRAM,
                         orgUnits=OWN)  # fmt: skip
    assert first_names(selected.json()) == [NAMES[OWN]]
    events = await get(client, CLERK, "/api/tracker/events", program=PROGRAM)
    assert {e["orgUnit"] for e in events.json()["events"]} == {OWN}
    for kind in ("trackedEntities", "enrollments", "events"):
        key = {"trackedEntities": "trackedEntity", "enrollments": "enrollment"}.get(kind, "event")
        assert (await get(client, CLERK, f"/api/tracker/{kind}/{uids[OWN][key]}")).is_success
    analytics = await get(client, CLERK, "/api/analytics",
                          dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", "ou:USER_ORGUNIT"])  # fmt: skip
    assert analytics.json()["rows"] == [[ANC1, PERIOD, OWN, VALUES[OWN]]]


async def test_facility_clerk_search_scope_on_named_org_units(world: World) -> None:
    client, _, _ = world
    for mode, ou in (("SELECTED", FAR), ("CHILDREN", DISTRICT_1), ("DESCENDANTS", ROOT)):
        answer = await get(client, CLERK, "/api/tracker/trackedEntities", program=PROGRAM,
                           orgUnits=ou, orgUnitMode=mode)  # fmt: skip
        assert answer.status_code == 403, answer.text
        message = f"Organisation unit is not part of the search scope: {ou}"
        assert answer.json()["message"] == message


async def test_district_officer_sees_its_district_only(world: World) -> None:
    client, _, _ = world
    mine = await get(client, OFFICER, "/api/analytics",
                     dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", f"ou:{DISTRICT_1}"])  # fmt: skip
    expected = str(float(int(VALUES[OWN]) + int(VALUES[NEIGHBOUR])))
    assert mine.status_code == 200 and float(mine.json()["rows"][0][-1]) == float(expected)
    for ou in (DISTRICT_2, ROOT):
        other = await get(client, OFFICER, "/api/analytics",
                          dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", f"ou:{ou}"])  # fmt: skip
        assert other.status_code == 409 and other.json()["errorCode"] == "E7120"
    values = await get(client, OFFICER, "/api/dataValueSets", dataSet=DATA_SET, period=PERIOD,
                       orgUnit=DISTRICT_1, children="true")  # fmt: skip
    assert sorted(v["orgUnit"] for v in values.json()["dataValues"]) == sorted([OWN, NEIGHBOUR])
    people = await get(client, OFFICER, "/api/tracker/trackedEntities", program=PROGRAM)
    assert first_names(people.json()) == sorted([NAMES[OWN], NAMES[NEIGHBOUR]])
    everyone = await get(client, OFFICER, "/api/tracker/trackedEntities", program=PROGRAM,
                         orgUnitMode="ALL")  # fmt: skip
    assert everyone.status_code == 403


async def test_admin_sees_everything(world: World) -> None:
    client, _, _ = world
    everyone = await get(client, ADMIN, "/api/tracker/trackedEntities", program=PROGRAM,
                         orgUnitMode="ALL")  # fmt: skip
    assert set(first_names(everyone.json())) == set(NAMES.values())
    national = await get(client, ADMIN, "/api/analytics",
                         dimension=[f"dx:{ANC1}", f"pe:{PERIOD}", f"ou:{ROOT}"])  # fmt: skip
    assert float(national.json()["rows"][0][-1]) == sum(float(v) for v in VALUES.values())
    values = await get(client, ADMIN, "/api/dataValueSets", dataSet=DATA_SET, period=PERIOD,
                       orgUnit=ROOT, children="true")  # fmt: skip
    assert len(values.json()["dataValues"]) == len(VALUES)


async def test_own_org_units_as_dhis2_lists_them(world: World) -> None:
    client, _, _ = world
    cases = [
        (CLERK, "userOnly", [OWN]),
        (CLERK, "userDataViewOnly", []),
        (CLERK, "userDataViewFallback", [OWN]),
        (OFFICER, "userDataViewOnly", [DISTRICT_1]),
    ]
    for user, flag, expected in cases:
        listed = await get(client, user, "/api/organisationUnits", **{flag: "true"})
        assert [u["id"] for u in listed.json()["organisationUnits"]] == expected, flag


# ---- writes ----
async def test_writes_outside_capture_change_nothing(world: World) -> None:
    client, _, uids = world
    key = {"de": ANC1, "pe": PERIOD, "ou": FAR, "co": COC}
    deleted = await client.delete("/api/dataValues", params=key, auth=CLERK)
    assert deleted.status_code == 409 and deleted.json()["errorCode"] == "E7620"
    missing = await client.delete("/api/dataValues", params={**key, "pe": "202402"}, auth=CLERK)
    assert missing.status_code == 409  # no probing for what exists outside the scope
    written = await client.post("/api/dataValues", params={**key, "value": "99"}, auth=CLERK)
    assert written.status_code == 409 and written.json()["errorCode"] == "E7620"
    far = uids[FAR]["trackedEntity"]
    for strategy, body in (
        ("DELETE", {"trackedEntities": [{"trackedEntity": far}]}),
        (
            "UPDATE",
            {"trackedEntities": [{**child(ou=OWN, first="Moved", te=far), "enrollments": []}]},
        ),
    ):
        client.auth = CLERK
        try:
            report = await sync_import(client, body, 409, importStrategy=strategy)
        finally:
            client.auth = ADMIN
        errors = report["validationReport"]["errorReports"]
        assert [e["errorCode"] for e in errors] == ["E1000"], strategy
    assert (await get(client, ADMIN, "/api/dataValues", **key)).json() == [VALUES[FAR]]
    after = await get(client, ADMIN, f"/api/tracker/trackedEntities/{far}")
    assert after.json()["orgUnit"] == FAR and "Moved" not in after.text


# ---- no data route can forget the scope ----
async def test_every_data_route_is_scoped(world: World) -> None:
    client, app, uids = world
    cases = probes(uids)
    unclassified, unprobed = [], []
    for method, path, dependant in api_routes(app):
        if (method, path) in UNSCOPED:
            continue
        if not depends_on(dependant, current_scope):
            unclassified.append(f"{method} {path}")
        elif method == "GET" and path not in cases:
            unprobed.append(path)
    assert unclassified == [], "routes neither scoped nor listed in UNSCOPED"
    assert unprobed == [], "scoped GET routes without a probe in dhis2_scope_support.probes"
    for route, (url, params, refusal) in cases.items():
        allowed = await client.get(url, params=params, auth=ADMIN)
        assert allowed.status_code == 200, (route, allowed.text)
        refused = await client.get(url, params=params, auth=CLERK)
        assert refused.status_code == refusal, (route, refused.text)
        assert refused.json()["status"] == "ERROR"
