"""DHIS2 user management cannot widen a scope: a user manager grants only org units inside its
own capture hierarchy and only roles and authorities it holds, to others and to itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.seed.defaults import ADMIN_UID, SUPERUSER_ROLE
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import DISTRICT_1, QUIET, ROOT
from tests.security.dhis2_scope_support import ADMIN, OWN

pytestmark = pytest.mark.anyio
MANAGER = ("district_manager", "Manager123!")


@pytest.fixture
async def client(settings_for: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    async with serve_in_process(create_app(settings)) as raw:
        raw.auth = ADMIN
        yield raw


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    answer = await client.post(path, json=body)
    assert answer.status_code == 201, answer.text
    uid: str = answer.json()["response"]["uid"]
    return uid


def person(username: str, role: str, **scopes: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"username": username, "firstName": "A", "surname": "B",
                            "password": "Secret123!", "userRoles": [{"id": role}]}  # fmt: skip
    body.update({prop: [{"id": ou} for ou in units] for prop, units in scopes.items()})
    return body


def error_codes(answer: httpx.Response) -> list[str]:
    reports = answer.json()["response"].get("errorReports") or [
        e for t in answer.json()["response"]["typeReports"]
        for o in t["objectReports"] for e in o["errorReports"]
    ]  # fmt: skip
    return sorted({e["errorCode"] for e in reports})


async def test_a_user_manager_cannot_widen_any_scope(client: httpx.AsyncClient) -> None:
    entry = await created(client, "/api/userRoles", {"name": "Entry", "authorities": [
        "F_DATAVALUE_ADD"]})  # fmt: skip
    search = await created(client, "/api/userRoles", {"name": "Searcher", "authorities": [
        "F_TRACKED_ENTITY_INSTANCE_SEARCH_IN_ALL_ORGUNITS"]})  # fmt: skip
    manager_role = await created(client, "/api/userRoles", {"name": "Manager", "authorities": [
        "F_USER_ADD", "F_METADATA_IMPORT", "F_DATAVALUE_ADD"]})  # fmt: skip
    manager = await created(client, "/api/users", {
        **person("district_manager", manager_role, organisationUnits=[DISTRICT_1]),
        "password": MANAGER[1]})  # fmt: skip
    client.auth = MANAGER
    refusals = [
        (person("wide", entry, dataViewOrganisationUnits=[ROOT]), "E7617"),
        (person("searcher", search, organisationUnits=[OWN]), "E3003"),
        (person("super", SUPERUSER_ROLE, organisationUnits=[OWN]), "E3003"),
        (person("peer", manager_role, organisationUnits=[OWN]), "E3003"),  # its own role
    ]
    for body, code in refusals:
        answer = await client.post("/api/users", json=body)
        assert answer.status_code == 409 and error_codes(answer) == [code], answer.text
    clerk2 = await created(client, "/api/users", person("clerk2", entry, organisationUnits=[OWN]))
    patches = [
        (f"/api/users/{manager}", "/teiSearchOrganisationUnits", [{"id": ROOT}], "E7617"),
        (f"/api/users/{manager}", "/userRoles/-", {"id": search}, "E3003"),
        (f"/api/users/{ADMIN_UID}", "/organisationUnits/-", {"id": OWN}, "E3041"),
        (f"/api/userRoles/{manager_role}", "/authorities/-", "ALL", "E3032"),
        (f"/api/userRoles/{manager_role}", "/authorities/-", "F_DATAVALUE_DELETE", "E3032"),
    ]
    for path, target, value, code in patches:
        answer = await client.patch(path, json=[{"op": "add", "path": target, "value": value}])
        assert answer.status_code == 409 and error_codes(answer) == [code], (path, answer.text)
    made = await client.post("/api/userRoles", json={"name": "Root", "authorities": ["ALL"]})
    assert made.status_code == 409 and error_codes(made) == ["E3032"]
    client.auth = ADMIN
    me = (await client.get("/api/me", auth=MANAGER)).json()
    assert me["organisationUnits"] == [{"id": DISTRICT_1}]
    assert "teiSearchOrganisationUnits" not in me or me["teiSearchOrganisationUnits"] == []
    assert sorted(me["authorities"]) == ["F_DATAVALUE_ADD", "F_METADATA_IMPORT", "F_USER_ADD"]
    listed = await client.get("/api/users", params={"fields": "username", "paging": "false"})
    names = {u["username"] for u in listed.json()["users"]}
    assert {"wide", "searcher", "super", "peer"}.isdisjoint(names) and "clerk2" in names
    # one object or a bare uid where DHIS2 expects a list is stored as a list of references
    patch = [
        {"op": "add", "path": "/dataViewOrganisationUnits", "value": {"id": DISTRICT_1}},
        {"op": "add", "path": "/teiSearchOrganisationUnits", "value": [DISTRICT_1]},
    ]
    assert (await client.patch(f"/api/users/{clerk2}", json=patch)).status_code == 200
    me = (await client.get("/api/me", auth=("clerk2", "Secret123!"))).json()
    assert (
        me["dataViewOrganisationUnits"] == me["teiSearchOrganisationUnits"] == [{"id": DISTRICT_1}]
    )
