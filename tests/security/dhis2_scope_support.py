"""The DHIS2 scope tests' world: seeded users, data in three facilities, the app's routes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI

from tests.sectoral_platform.conftest import ANC1, COC, DATA_SET, FACILITIES
from tests.sectoral_platform.tracker_helpers import PERSON, PROGRAM, child, sync_import, uid

ADMIN = ("admin", "district")
OFFICER = ("district_officer", "Officer123!")  # district XD-R01-D01
CLERK = ("facility_clerk", "Clerk123!")  # facility XD-R01-D01-F001
OWN, NEIGHBOUR, FAR = FACILITIES[0], FACILITIES[1], FACILITIES[3]  # D01, D01, D02
PERIOD = "202401"
VALUES = {OWN: "11", NEIGHBOUR: "22", FAR: "33"}
NAMES = {OWN: "Owna", NEIGHBOUR: "Neighbra", FAR: "Farra"}


async def populate(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """As admin: one ANC1 value and one child (enrollment, two events) per facility; returns
    the tracker uids per facility."""
    for ou, value in VALUES.items():
        body = {
            "dataSet": DATA_SET,
            "period": PERIOD,
            "orgUnit": ou,
            "dataValues": [{"dataElement": ANC1, "categoryOptionCombo": COC, "value": value}],
        }
        answer = await client.post("/api/dataValueSets", json=body, auth=ADMIN)
        assert answer.status_code == 200, answer.text
    people = {ou: child(ou=ou, first=name) for ou, name in NAMES.items()}
    await sync_import(client, {"trackedEntities": list(people.values())})
    uids: dict[str, dict[str, str]] = {}
    for ou, person in people.items():
        te = person["trackedEntity"]
        query = {"trackedEntity": te, "orgUnitMode": "ALL"}
        enrollments = await client.get("/api/tracker/enrollments", params=query, auth=ADMIN)
        events = await client.get("/api/tracker/events", params=query, auth=ADMIN)
        uids[ou] = {
            "trackedEntity": te,
            "enrollment": enrollments.json()["enrollments"][0]["enrollment"],
            "event": events.json()["events"][0]["event"],
        }
    await _relationships(client, uids)
    return uids


async def _relationships(client: httpx.AsyncClient, uids: dict[str, dict[str, str]]) -> None:
    """One relationship per facility, from the child to its own enrollment."""
    ends = {"TRACKED_ENTITY_INSTANCE": ("trackedEntityType", PERSON),
            "PROGRAM_INSTANCE": ("program", PROGRAM)}  # fmt: skip
    constraints = {
        side: {"relationshipEntity": entity, ends[entity][0]: {"id": ends[entity][1]}}
        for side, entity in (("fromConstraint", "TRACKED_ENTITY_INSTANCE"),
                             ("toConstraint", "PROGRAM_INSTANCE"))
    }  # fmt: skip
    rel_type = {"id": "ScopeRelTyp", "name": "Child-Enrollment", **constraints}
    answer = await client.post("/api/metadata", json={"relationshipTypes": [rel_type]}, auth=ADMIN)
    assert answer.status_code == 200, answer.text
    for ids in uids.values():
        ids["relationship"] = uid()
        body = {"relationships": [{
            "relationship": ids["relationship"], "relationshipType": "ScopeRelTyp",
            "from": {"trackedEntity": ids["trackedEntity"]},
            "to": {"enrollment": ids["enrollment"]},
        }]}  # fmt: skip
        await sync_import(client, body)


def first_names(body: dict[str, Any]) -> list[str]:
    found = []
    for te in body.get("trackedEntities", []):
        found += [a["value"] for a in te["attributes"] if a["value"] in NAMES.values()]
    return sorted(found)


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """(method, path, dependant) of every route, through FastAPI's included routers."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        items: list[Any] = contexts() if callable(contexts) else [route]
        for item in items:
            dependant = getattr(item, "dependant", None)
            if dependant is None:
                continue
            for method in sorted(item.methods or ()):
                yield method, item.path, dependant


def depends_on(dependant: Any, target: Callable[..., Any]) -> bool:
    return any(d.call is target or depends_on(d, target) for d in dependant.dependencies)


# Routes that are not bound to a user's org units, and why (DHIS2 scopes none of them).
UNSCOPED = {
    ("GET", "/"): "service root",
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("GET", "/info"): "service information",
    ("GET", "/docs"): "the API documentation page (no data)",
    ("GET", "/docs/oauth2-redirect"): "the API documentation page (no data)",
    ("GET", "/redoc"): "the API documentation page (no data)",
    ("POST", "/admin/reset"): "the sandbox operator's admin key only (kernel reset, no DHIS2 user)",
    ("GET", "/api/system/info"): "system information",
    ("GET", "/api/system/id"): "fresh UIDs",
    ("GET", "/api/system/ping"): "liveness",
    ("GET", "/api/me"): "the caller's own account",
    ("GET", "/api/me/authorization"): "the caller's own authorities",
    ("POST", "/api/apiToken"): "the caller's own tokens",
    ("GET", "/api/apiToken"): "the caller's own tokens",
    ("DELETE", "/api/apiToken/{uid}"): "the caller's own tokens",
    ("GET", "/api/metadata"): "metadata, not data-scoped in DHIS2",
    ("POST", "/api/metadata"): "metadata, authority F_METADATA_IMPORT",
    ("GET", "/api/{collection}"): "metadata, not data-scoped in DHIS2",
    ("POST", "/api/{collection}"): "metadata, authority F_METADATA_IMPORT / F_USER_ADD",
    ("GET", "/api/{collection}/{uid}"): "metadata, not data-scoped in DHIS2",
    ("PUT", "/api/{collection}/{uid}"): "metadata, authority F_METADATA_IMPORT / F_USER_ADD",
    ("PATCH", "/api/{collection}/{uid}"): "metadata, authority F_METADATA_IMPORT / F_USER_ADD",
    ("DELETE", "/api/{collection}/{uid}"): "metadata, authority F_METADATA_IMPORT / F_USER_ADD",
    ("GET", "/api/{collection}/{uid}/{prop}"): "metadata, not data-scoped in DHIS2",
    ("GET", "/api/openData/publications"): "open data: public by design",
    ("GET", "/api/openData/publications/{name}"): "open data: public by design",
    ("GET", "/api/immunisationStatus"): "mediator only, consent checked by the mediator",
    ("POST", "/api/civilRegistration/events"): "mediator only (PUSH delivery)",
    ("GET", "/api/schemas"): "type descriptions, no org unit data",
    ("GET", "/api/schemas/{name}"): "type descriptions, no org unit data",
    ("GET", "/api/resources"): "the list of endpoints, no org unit data",
    ("GET", "/api/system/tasks/{job_type}/{uid}"): "an async import's log: its submitter's only",
    ("GET", "/api/system/taskSummaries/{job_type}/{uid}"): "its submitter's only, no data values",
}
# extensions (issue 21): apps' settings, bundles and routes are not org unit data
_STORE_PATHS = (
    ("GET", ""), ("GET", "/{namespace}/keys"), ("GET", "/{namespace}"), ("DELETE", "/{namespace}"),
    ("GET", "/{namespace}/{key}"), ("GET", "/{namespace}/{key}/metaData"),
    ("POST", "/{namespace}/{key}"), ("PUT", "/{namespace}/{key}"), ("DELETE", "/{namespace}/{key}"),
)  # fmt: skip
_RUN = "proxy: read access to the route or one of its authorities; the target scopes its data"
_ROUTES = "route metadata, not org unit data: F_ROUTE_* authorities and the route's sharing"
_APP_ADMIN = "app bundles, not org unit data: M_DHIS_WEB_APP_MANAGEMENT"
_APP_FILES = "an app's static files: the app's own authority (M_<key>)"
UNSCOPED |= {
    **{(m, f"/api/dataStore{t}"): "app settings: namespace protection (apps' authorities)"
       for m, t in _STORE_PATHS},
    **{(m, f"/api/userDataStore{t}"): "the caller's own userDataStore entries only"
       for m, t in _STORE_PATHS},
    ("POST", "/api/apps"): _APP_ADMIN,
    ("DELETE", "/api/apps/{key}"): _APP_ADMIN,
    ("GET", "/api/apps"): "the installed apps the caller's authorities open",
    ("GET", "/api/apps/{key}"): _APP_FILES,
    ("GET", "/api/apps/{key}/{path:path}"): _APP_FILES,
    **{(m, "/api/routes"): _ROUTES for m in ("GET", "POST")},
    ("GET", "/api/routes/{ident}"): _ROUTES,
    **{(m, "/api/routes/{uid}"): _ROUTES for m in ("PUT", "DELETE")},
    **{(m, f"/api/routes/{{ident}}/run{t}"): _RUN
       for m in ("GET", "POST", "PUT", "PATCH", "DELETE") for t in ("", "/{sub_path:path}")},
}  # fmt: skip


def probes(uids: dict[str, dict[str, str]]) -> dict[str, tuple[str, dict[str, Any], int]]:
    """For every scoped GET route: a request for the FAR facility's data (the admin gets it) and
    the refusal the facility clerk gets instead."""
    far = uids[FAR]
    te, en, ev = far["trackedEntity"], far["enrollment"], far["event"]
    return {
        "/api/dataValueSets": (
            "/api/dataValueSets",
            {"dataSet": DATA_SET, "period": PERIOD, "orgUnit": FAR},
            409,
        ),
        "/api/dataValueSets.{suffix}": (
            "/api/dataValueSets.csv",
            {"dataSet": DATA_SET, "period": PERIOD, "orgUnit": FAR},
            409,
        ),
        "/api/completeDataSetRegistrations": (
            "/api/completeDataSetRegistrations",
            {"dataSet": DATA_SET, "period": PERIOD, "orgUnit": FAR},
            409,
        ),
        "/api/dataValues": (
            "/api/dataValues",
            {"de": ANC1, "pe": PERIOD, "ou": FAR, "co": COC},
            409,
        ),
        **{
            route: (
                url,
                {"dimension": [f"dx:{ANC1}", f"pe:{PERIOD}", f"ou:{FAR}"]},
                409,
            )
            for route, url in (
                ("/api/analytics", "/api/analytics"),
                ("/api/analytics.{suffix}", "/api/analytics.csv"),
                ("/api/analytics/dataValueSet", "/api/analytics/dataValueSet"),
                ("/api/analytics/dataValueSet.{suffix}", "/api/analytics/dataValueSet.csv"),
                ("/api/analytics/rawData", "/api/analytics/rawData"),
            )
        },
        **{
            f"/api/analytics/{kind}/{{program}}": (
                f"/api/analytics/{kind}/{PROGRAM}",
                {"dimension": [f"pe:{PERIOD[:4]}", f"ou:{FAR}"]},
                409,
            )
            for kind in ("events/query", "events/aggregate", "enrollments/query")
        },
        "/api/validation/dataSet/{ds}": (
            f"/api/validation/dataSet/{DATA_SET}",
            {"pe": PERIOD, "ou": FAR},
            409,
        ),
        "/api/tracker/trackedEntities": (
            "/api/tracker/trackedEntities",
            {"trackedEntities": te, "orgUnitMode": "ALL"},
            403,
        ),
        "/api/tracker/trackedEntities/{uid}": (f"/api/tracker/trackedEntities/{te}", {}, 404),
        "/api/tracker/enrollments": (
            "/api/tracker/enrollments",
            {"orgUnits": FAR, "orgUnitMode": "SELECTED"},
            403,
        ),
        "/api/tracker/enrollments/{uid}": (f"/api/tracker/enrollments/{en}", {}, 404),
        "/api/tracker/events": ("/api/tracker/events", {"orgUnit": FAR}, 403),
        "/api/tracker/events/{uid}": (f"/api/tracker/events/{ev}", {}, 404),
        "/api/identity/registrations/{uid}": (f"/api/identity/registrations/{te}", {}, 404),
        "/api/events/outbox": ("/api/events/outbox", {}, 403),
        "/api/tracker/relationships": ("/api/tracker/relationships", {"trackedEntity": te}, 404),
        "/api/tracker/relationships/{uid}": (
            f"/api/tracker/relationships/{far['relationship']}",
            {},
            404,
        ),
        "/api/tracker/jobs/{uid}": (f"/api/tracker/jobs/{far['job']}", {}, 404),
        "/api/tracker/jobs/{uid}/report": (f"/api/tracker/jobs/{far['job']}/report", {}, 404),
    }
