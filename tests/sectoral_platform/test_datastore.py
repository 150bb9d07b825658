"""The dataStore and userDataStore as DHIS2 documents them (2.41/2.42): CRUD, the query API
(`fields`, `filter`, `order`, paging), metadata, encryption, protected namespaces."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from services.sectoral_platform.errors import NOT_IMPLEMENTED
from tests.sectoral_platform.extension_helpers import bundle, install, manifest, user_with

pytestmark = pytest.mark.anyio

PEOPLE = {
    "luke": {
        "name": "Luke",
        "age": 19,
        "minor": False,
        "tags": ["pilot"],
        "home": {"planet": "Tatooine"},
    },
    "leia": {"name": "Leia", "age": 19, "minor": False, "tags": [], "home": {"planet": "Alderaan"}},
    "ben": {"name": "Ben", "age": 57, "minor": False, "home": {"planet": "Stewjon"}},
    "grogu": {"name": "Grogu", "age": 50, "minor": True, "home": None},
    "r2": {"name": "R2-D2", "age": None},
}


def ns() -> str:
    return f"ns-{secrets.token_hex(4)}"


async def populate(client: httpx.AsyncClient, namespace: str) -> None:
    for key, value in PEOPLE.items():
        answer = await client.post(f"/api/dataStore/{namespace}/{key}", json=value)
        assert answer.status_code == 201, answer.text


async def entries(client: httpx.AsyncClient, namespace: str, **params: Any) -> Any:
    answer = await client.get(f"/api/dataStore/{namespace}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_create_read_update_delete(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    created = await c.post(f"/api/dataStore/{space}/config", json={"route": "registry"})
    assert created.status_code == 201
    assert created.json() == {
        "httpStatus": "Created",
        "httpStatusCode": 201,
        "status": "OK",
        "message": "Key created: 'config'",
    }
    again = await c.post(f"/api/dataStore/{space}/config", json={})
    assert again.status_code == 409
    assert again.json()["message"] == f"Key 'config' already exists in namespace '{space}'"
    assert (await c.get(f"/api/dataStore/{space}/config")).json() == {"route": "registry"}
    assert space in (await c.get("/api/dataStore")).json()
    assert (await c.get(f"/api/dataStore/{space}")).json() == ["config"]
    assert (await c.get(f"/api/dataStore/{space}/keys")).json() == ["config"]
    updated = await c.put(f"/api/dataStore/{space}/config", json=[1, 2, 3])
    assert updated.status_code == 200 and updated.json()["message"] == "Key updated: 'config'"
    assert (await c.get(f"/api/dataStore/{space}/config")).json() == [1, 2, 3]
    upsert = await c.put(f"/api/dataStore/{space}/other", json="text")
    assert upsert.status_code == 201
    gone = await c.delete(f"/api/dataStore/{space}/config")
    assert gone.json()["message"] == f"Key 'config' deleted from namespace '{space}'"
    missing = await c.get(f"/api/dataStore/{space}/config")
    assert missing.status_code == 404
    assert missing.json()["message"] == f"Key 'config' not found in namespace '{space}'"
    assert (await c.delete(f"/api/dataStore/{space}")).json()["message"] == (
        f"Namespace deleted: '{space}'"
    )
    unknown = await c.get(f"/api/dataStore/{space}")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == f"Namespace not found: '{space}'"


async def test_a_value_that_is_not_json_is_refused(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    headers = {"Content-Type": "application/json"}
    for body in (b"{not json", b"", b"\xff\xfe"):
        bad = await c.post(f"/api/dataStore/{space}/k", content=body, headers=headers)
        assert bad.status_code == 400, body
        assert bad.json()["message"] == "Invalid JSON value for key 'k'"
    text = await c.post(
        f"/api/dataStore/{space}/k", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    assert (await c.get(f"/api/dataStore/{space}")).status_code == 404  # nothing stored


async def test_metadata_and_encrypted_values(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    await c.post(f"/api/dataStore/{space}/secret", params={"encrypt": "true"}, json={"pin": "1234"})
    assert (await c.get(f"/api/dataStore/{space}/secret")).json() == {"pin": "1234"}
    meta = (await c.get(f"/api/dataStore/{space}/secret/metaData")).json()
    assert meta["namespace"] == space and meta["key"] == "secret" and meta["encrypted"] is True
    assert "value" not in meta and len(meta["id"]) == 11 and meta["access"]["read"] is True
    queried = await entries(c, space, fields=".", includeAll="true")
    assert queried["entries"] == [{"key": "secret", "value": None}]  # not queryable


async def test_fields_extract_nest_and_hoist(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    await populate(c, space)
    keys_only = await entries(c, space, fields="")
    assert [e["key"] for e in keys_only["entries"]] == ["ben", "grogu", "leia", "luke", "r2"]
    assert keys_only["pager"] == {"page": 1, "pageSize": 50}
    named = await entries(c, space, fields="name,age", order="age:nasc", filter="age:!null")
    assert [e["name"] for e in named["entries"]][:2] == ["Leia", "Luke"]
    nested = await entries(c, space, fields="home[planet]", filter="home.planet:!null")
    assert {"key": "luke", "home": {"planet": "Tatooine"}} in nested["entries"]
    hoisted = await entries(c, space, fields="home(planet~hoist(world))", filter="_:eq:ben")
    assert hoisted["entries"] == [{"key": "ben", "world": "Stewjon"}]
    nulls = await entries(c, space, fields="home[planet]")
    assert "grogu" not in [e["key"] for e in nulls["entries"]]
    every = await entries(c, space, fields="home[planet]", includeAll="true")
    assert {"key": "grogu", "home": {"planet": None}} in every["entries"]
    root = await entries(c, space, fields=".", filter="_:eq:r2")
    assert root["entries"] == [{"key": "r2", "value": {"name": "R2-D2", "age": None}}]


async def test_filters_order_and_paging(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    await populate(c, space)

    async def keys(**params: Any) -> list[str]:
        return [e["key"] for e in (await entries(c, space, fields="name", **params))["entries"]]

    assert await keys(filter="name:eq:Luke") == ["luke"]
    assert await keys(filter="age:gt:42") == ["ben", "grogu"]
    assert await keys(filter="minor:eq:true") == ["grogu"]
    assert await keys(filter=["name:like:e", "age:lt:20"]) == ["leia", "luke"]
    assert await keys(filter=["minor:eq:true", "age:lt:20"], rootJunction="OR") == [
        "grogu",
        "leia",
        "luke",
    ]
    assert await keys(filter="name:$ilike:l") == ["leia", "luke"]
    assert await keys(filter="name:ilike$:U") == ["grogu"]
    assert await keys(filter="age:null") == ["r2"]
    assert await keys(filter="tags:empty") == ["leia"]
    assert await keys(filter="tags[0]:eq:pilot") == ["luke"]
    assert await keys(filter="_:in:[ben,r2]") == ["ben", "r2"]
    assert await keys(filter="name:!in:[Ben,Luke,Leia]") == ["grogu", "r2"]
    assert await keys(order="name:desc") == ["r2", "luke", "leia", "grogu", "ben"]
    assert await keys(order="age:ndesc", filter="age:!null") == ["ben", "grogu", "leia", "luke"]
    paged = await entries(c, space, fields="name", page=2, pageSize=2)
    assert paged["pager"] == {"page": 2, "pageSize": 2}
    assert [e["key"] for e in paged["entries"]] == ["leia", "luke"]
    plain = await entries(c, space, fields="name", paging="false")
    assert isinstance(plain, list) and len(plain) == 5
    headless = await entries(c, space, fields="name", pageSize=1, headless="true")
    assert headless == [{"key": "ben", "name": "Ben"}]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"filter": "name:sounds:Luke"}, "E7652"),
        ({"filter": "name:eq"}, "E7653"),
        ({"filter": "age:null:1"}, "E7653"),
        ({"filter": "_:null"}, "E7653"),
        ({"filter": "a.b.c.d.e.f:eq:1"}, "E7650"),
        ({"fields": "home[planet"}, None),
        ({"fields": "name]x"}, "E7651"),
        ({"order": "name:sideways"}, None),
        ({"order": "name:nasc"}, None),
    ],
)
async def test_bad_queries_are_400(
    shared_client: httpx.AsyncClient, params: dict[str, str], code: str | None
) -> None:
    space = ns()
    await populate(shared_client, space)
    answer = await shared_client.get(f"/api/dataStore/{space}", params={"fields": "name", **params})
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"] == "ERROR"
    if code:
        assert answer.json()["errorCode"] == code


async def test_unimplemented_parameters_are_named(shared_client: httpx.AsyncClient) -> None:
    c, space = shared_client, ns()
    answer = await c.put(f"/api/dataStore/{space}/k", params={"path": "a.b"}, json=1)
    assert answer.status_code == 409 and "`path`" in answer.json()["message"]
    assert answer.json()["errorCode"] == NOT_IMPLEMENTED
    assert (await c.get(f"/api/dataStore/{space}/k")).status_code == 404  # nothing written
    user = await c.get("/api/userDataStore", params={"username": "admin"})
    assert user.status_code == 409 and "`username`" in user.json()["message"]
    shared = await c.get("/api/dataStore", params={"username": "admin"})
    assert shared.status_code == 200  # DatastoreController has no `username`: ignored


async def test_parameters_dhis2_does_not_define_are_ignored(
    shared_client: httpx.AsyncClient,
) -> None:
    """As DHIS2's controllers ignore them: `query` is no datastore parameter, `encrypt` none of
    a read."""
    c, space = shared_client, ns()
    await populate(c, space)
    plain = await c.get(f"/api/dataStore/{space}", params={"fields": "name", "paging": "false"})
    extra = await c.get(
        f"/api/dataStore/{space}",
        params={"fields": "name", "paging": "false", "query": "Luke", "encrypt": "true"},
    )
    assert extra.status_code == 200 and extra.json() == plain.json()


async def test_user_data_store_is_per_user(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    other = await user_with(c, [])
    created = await c.post("/api/userDataStore/settings/theme", json={"dark": True})
    assert created.status_code == 201
    assert created.json()["message"] == "Key 'theme' in namespace 'settings' created."
    assert (await c.get("/api/userDataStore/settings/theme")).json() == {"dark": True}
    assert (await c.get("/api/userDataStore/settings/theme", auth=other)).status_code == 404
    assert (await c.get("/api/userDataStore", auth=other)).json() == []
    mine = await c.post("/api/userDataStore/settings/theme", auth=other, json={"dark": False})
    assert mine.status_code == 201
    assert (await c.get("/api/userDataStore/settings/theme")).json() == {"dark": True}
    assert (await c.get("/api/dataStore/settings")).status_code == 404  # not the shared store
    assert (await c.delete("/api/userDataStore/settings")).json()["message"] == (
        "All keys from namespace 'settings' deleted."
    )
    assert (await c.get("/api/userDataStore/settings/theme", auth=other)).json() == {"dark": False}
    assert (await c.get("/api/userDataStore")).status_code == 200
    assert (await c.get("/api/userDataStore", auth=("admin", "wrong"))).status_code == 401


async def test_an_apps_namespace_is_protected(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    name, space = f"Protected {secrets.token_hex(3)}", ns()
    files = {"manifest.webapp": manifest(name, space), "index.html": "<p>hi</p>"}
    assert (await install(c, bundle(files))).status_code == 204
    key = name.replace(" ", "-")
    assert (await c.post(f"/api/dataStore/{space}/settings", json={"a": 1})).status_code == 201
    stranger = await user_with(c, ["F_DATAVALUE_ADD"])
    member = await user_with(c, [f"M_{key.replace('-', '_')}"])
    for method, path in (
        ("GET", "settings"),
        ("PUT", "settings"),
        ("POST", "new"),
        ("DELETE", "settings"),
    ):
        answer = await c.request(method, f"/api/dataStore/{space}/{path}", auth=stranger, json={})
        assert answer.status_code == 403, (method, answer.text)
        assert answer.json()["message"] == f"Namespace '{space}' is protected, access denied"
    assert (await c.get(f"/api/dataStore/{space}", auth=stranger)).status_code == 403
    assert (await c.get(f"/api/dataStore/{space}/settings", auth=member)).json() == {"a": 1}
    assert (
        await c.put(f"/api/dataStore/{space}/settings", auth=member, json={"a": 2})
    ).status_code == 200
    assert (await c.delete(f"/api/apps/{key}")).status_code == 204
    assert (await c.get(f"/api/dataStore/{space}/settings", auth=stranger)).json() == {"a": 2}
