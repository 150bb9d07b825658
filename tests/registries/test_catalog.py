"""The Database API: registries are created, changed and deleted by configuration."""

from __future__ import annotations

import pytest

from services.kernel.errors import BadRequest
from services.registries.catalog import schema as schemas
from services.registries.catalog.builtin import builtin_registries
from tests.registries.conftest import HEADERS
from tests.registries.test_data_api import PEOPLE, PEOPLE_SCHEMA, make_people

pytestmark = pytest.mark.anyio


async def test_databases_lists_builtin_and_configured_registries(client):
    people_id = await make_people(client, [])
    groups = (await client.get("/databases", headers=HEADERS)).json()
    names = {g["name"]: [(d["name"], d["version"]) for d in g["databases"]] for g in groups}
    assert names == {
        "Civil registration": [("births", "1.0"), ("deaths", "1.0")],
        "Master facility list": [("facilities", "1.0")],
        "Test": [("people", "1.0")],
    }
    info = (await client.get(f"/database/{people_id}", headers=HEADERS)).json()
    assert info["name"] == "people" and info["code"] == "PPL" and info["schema"] == PEOPLE_SCHEMA
    assert {"name": "primaryKey", "path": "/id"} in info["schema_flags"]
    assert {"name": "personalId", "path": "/id"} in info["schema_flags"]
    missing = await client.get("/database/999", headers=HEADERS)
    assert missing.status_code == 404 and missing.json() == {"detail": "no database with id 999."}
    assert (await client.get("/databases")).status_code == 401


async def test_invalid_schema_is_refused_naming_the_problem(client):
    bad = {"code": "BAD", "schema": {"type": "object", "properties": {"x": {"type": "strng"}}}}
    response = await client.post("/database/modify", json=bad, headers=HEADERS)
    assert response.status_code == 400 and "properties/x/type" in response.json()["detail"]
    not_object = {"code": "BAD", "schema": {"type": "array"}}
    assert (
        await client.post("/database/modify", json=not_object, headers=HEADERS)
    ).status_code == 400
    no_code = await client.post("/database/modify", json={"schema": {}}, headers=HEADERS)
    assert no_code.status_code == 400 and "code" in no_code.json()["detail"]
    assert len((await client.get("/databases", headers=HEADERS)).json()) == 2


async def test_schema_change_must_keep_existing_records_valid(client):
    await make_people(client, PEOPLE[:2])
    stricter = {**PEOPLE_SCHEMA, "required": ["firstName", "lastName", "birthCertificateId"]}
    body = {"code": "PPL", "name": "people", "version": "1.0", "schema": stricter}
    refused = await client.post("/database/modify", json=body, headers=HEADERS)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["field"] == "birthCertificateId"
    assert refused.json()["errors"][0]["rule"] == "required"
    still = await client.post(
        "/data/people/1.0/create",
        headers=HEADERS,
        json={"write": {"content": {"firstName": "A", "lastName": "B"}}},
    )
    assert still.status_code == 200
    looser = {**PEOPLE_SCHEMA, "required": ["firstName"]}
    body["schema"] = looser
    assert (await client.post("/database/modify", json=body, headers=HEADERS)).status_code == 200
    created = await client.post(
        "/data/people/1.0/create",
        headers=HEADERS,
        json={"write": {"content": {"firstName": "Only"}}},
    )
    assert created.status_code == 200


async def test_versions_are_separate_registries(client):
    await make_people(client, PEOPLE[:1])
    v2 = {"code": "PPL", "name": "people", "version": "2.0", "schema": PEOPLE_SCHEMA}
    assert (await client.post("/database/modify", json=v2, headers=HEADERS)).status_code == 200
    assert (await client.get("/data/people/2.0", headers=HEADERS)).json()["count"] == 0
    assert (await client.get("/data/people/1.0", headers=HEADERS)).json()["count"] == 1
    unknown = await client.get("/data/people/3.0", headers=HEADERS)
    assert unknown.status_code == 404 and "1.0, 2.0" in unknown.json()["detail"]


async def test_delete_only_empty_configured_registries(client):
    people_id = await make_people(client, PEOPLE[:1])
    full = await client.delete(f"/database/{people_id}", headers=HEADERS)
    assert full.status_code == 409 and "1 records" in full.json()["detail"]
    await client.delete("/data/people/1.0/P1/delete", headers=HEADERS)
    emptied = await client.delete(f"/database/{people_id}", headers=HEADERS)
    assert emptied.status_code == 200 and emptied.json() == "Success"
    assert (await client.get("/data/people/1.0", headers=HEADERS)).status_code == 404
    groups = (await client.get("/databases", headers=HEADERS)).json()
    births_id = groups[0]["databases"][0]["id"]
    builtin = await client.delete(f"/database/{births_id}", headers=HEADERS)
    assert builtin.status_code == 409
    overwrite = {"code": "BR", "name": "births", "version": "1.0", "schema": {"type": "object"}}
    assert (
        await client.post("/database/modify", json=overwrite, headers=HEADERS)
    ).status_code == 409


def test_builtin_registry_schemas_are_valid_json_schema():
    """Seeding does not check the built-in schemas at every start; this does."""
    specs = builtin_registries()
    assert specs
    for spec in specs:
        schemas.check_schema(spec.body.json_schema)  # raises BadRequest naming the fault
    broken = {**specs[0].body.json_schema, "type": "nonsense"}
    with pytest.raises(BadRequest):
        schemas.check_schema(broken)
