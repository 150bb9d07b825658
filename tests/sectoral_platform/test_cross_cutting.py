"""Path forms, authentication, users, WebMessage errors, system endpoints."""

import re

import httpx
import pytest

from tests.sectoral_platform.conftest import ROOT

pytestmark = pytest.mark.anyio

UID = re.compile(r"^[A-Za-z][A-Za-z0-9]{10}$")


async def test_path_forms_answer_without_redirect(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/dataSets",
        "/api/dataSets.json",
        "/api/42/dataSets",
        "/api/41/dataSets.json",
    ):
        response = await client.get(path, headers={"Accept": "*/*"})
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["dataSets"][0]["displayName"] == "Monthly health facility report"


async def test_single_object_path_forms(client: httpx.AsyncClient) -> None:
    plain = (await client.get(f"/api/organisationUnits/{ROOT}")).json()
    assert (await client.get(f"/api/42/organisationUnits/{ROOT}.json")).json() == plain
    assert plain["level"] == 1 and plain["path"] == f"/{ROOT}"


async def test_missing_and_bad_credentials_get_401_webmessage(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/me", auth=None, headers={"Authorization": ""})
    assert missing.status_code == 401
    body = missing.json()
    assert body["httpStatusCode"] == 401 and body["status"] == "ERROR"
    assert body["httpStatus"] == "Unauthorized"
    wrong = await client.get("/api/me", auth=("admin", "wrong"))
    assert wrong.status_code == 401
    garbage = await client.get("/api/me", auth=None, headers={"Authorization": "Basic %%%"})
    assert garbage.status_code == 401
    bad_token = await client.get(
        "/api/me", auth=None, headers={"Authorization": "ApiToken d2pat_nope"}
    )
    assert bad_token.status_code == 401


async def test_personal_access_token_authenticates_as_its_owner(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/apiToken", json={})
    assert created.status_code == 201
    key = created.json()["response"]["key"]
    assert key.startswith("d2pat_")
    me = await client.get("/api/me", auth=None, headers={"Authorization": f"ApiToken {key}"})
    assert me.status_code == 200 and me.json()["username"] == "admin"
    expired = await client.post("/api/apiToken", json={"expire": 1000})
    old_key = expired.json()["response"]["key"]
    refused = await client.get(
        "/api/me", auth=None, headers={"Authorization": f"ApiToken {old_key}"}
    )
    assert refused.status_code == 401
    uid = created.json()["response"]["uid"]
    assert (await client.delete(f"/api/apiToken/{uid}")).status_code == 200
    revoked = await client.get("/api/me", auth=None, headers={"Authorization": f"ApiToken {key}"})
    assert revoked.status_code == 401


async def test_me_has_the_contract_shape(client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/me")).json()
    for key in (
        "id",
        "username",
        "displayName",
        "firstName",
        "surname",
        "authorities",
        "organisationUnits",
        "dataViewOrganisationUnits",
        "teiSearchOrganisationUnits",
        "userRoles",
        "programs",
        "dataSets",
        "settings",
    ):
        assert key in me, key
    assert me["authorities"] == ["ALL"]
    assert me["organisationUnits"] == [{"id": ROOT}]
    assert (await client.get("/api/me", params={"fields": "id"})).json() == {"id": me["id"]}


async def test_users_with_roles_and_org_unit_scopes(client: httpx.AsyncClient) -> None:
    role = await client.post(
        "/api/userRoles", json={"name": "Data entry", "authorities": ["F_DATAVALUE_ADD"]}
    )
    role_id = role.json()["response"]["uid"]
    district = (await client.get("/api/organisationUnits", params={"level": 3})).json()
    scope = district["organisationUnits"][0]["id"]
    created = await client.post(
        "/api/users",
        json={
            "username": "clerk",
            "firstName": "Ada",
            "surname": "Clerk",
            "password": "Clerk123!",
            "userRoles": [{"id": role_id}],
            "organisationUnits": [{"id": scope}],
        },
    )
    assert created.status_code == 201, created.text
    listed = (await client.get("/api/users", params={"fields": "id,username,authorities"})).json()
    by_name = {u["username"]: u for u in listed["users"]}
    assert by_name["clerk"]["authorities"] == ["F_DATAVALUE_ADD"]
    assert "password" not in str(listed) and "passwordHash" not in str(listed)
    me = (await client.get("/api/me", auth=("clerk", "Clerk123!"))).json()
    assert me["organisationUnits"] == [{"id": scope}]
    forbidden = await client.post(
        "/api/dataElements", auth=("clerk", "Clerk123!"), json={"name": "x"}
    )
    assert forbidden.status_code == 403 and forbidden.json()["status"] == "ERROR"


async def test_user_scopes_by_json_patch(client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/me")).json()
    patch = [{"op": "add", "path": "/dataViewOrganisationUnits/-", "value": {"id": ROOT}}]
    response = await client.patch(
        f"/api/users/{me['id']}",
        json=patch,
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert response.status_code == 200, response.text
    user = (await client.get(f"/api/users/{me['id']}")).json()
    assert user["dataViewOrganisationUnits"] == [{"id": ROOT}, {"id": ROOT}]


async def test_system_info_and_ids(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/system/info")).json()
    assert re.match(r"^2\.42\.\d+$", info["version"])
    for key in (
        "revision",
        "buildTime",
        "serverDate",
        "calendar",
        "dateFormat",
        "contextPath",
        "systemName",
        "systemId",
    ):
        assert key in info
    assert info["calendar"] == "iso8601"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$", info["serverDate"])
    codes = (await client.get("/api/system/id", params={"limit": 25})).json()["codes"]
    assert len(codes) == 25 == len(set(codes)) and all(UID.match(c) for c in codes)
    assert len((await client.get("/api/system/id.json")).json()["codes"]) == 1
    bad = await client.get("/api/system/id", params={"limit": "many"})
    assert bad.status_code == 400 and bad.json()["httpStatusCode"] == 400


async def test_unknown_things_are_404_webmessages(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/dataElements/abcdefghijk")
    assert missing.status_code == 404
    assert missing.json() == {
        "httpStatus": "Not Found",
        "httpStatusCode": 404,
        "status": "ERROR",
        "message": "DataElement with id abcdefghijk could not be found.",
        "errorCode": "E1005",
    }
    assert (await client.get("/api/notAType")).status_code == 404


async def test_malformed_json_is_400_and_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/dataElements")).json()["pager"]["total"]
    response = await client.post(
        "/api/dataElements", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["status"] == "ERROR"
    assert (await client.get("/api/dataElements")).json()["pager"]["total"] == before


async def test_base_url_answers_without_redirect(client: httpx.AsyncClient) -> None:
    response = await client.get("/", auth=None)
    assert response.status_code == 200 and response.json()["api"] == "/api"
