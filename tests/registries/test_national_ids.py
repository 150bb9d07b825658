"""No national ID number (UIN, VID) is stored in a registry, whatever the registry's schema.

The built-in civil registers have no such field and admit no extra ones; a registry defined
through `/database/modify` might. Its schema may not declare one, and a record carrying one under
any key spelled `uin`/`vid` is refused (400 naming the path) on every write, direct or forwarded
by the mediator, with nothing stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.registries.conftest import CLIENT, HEADERS, mediated

pytestmark = pytest.mark.anyio

OPEN_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}  # extras allowed
OPEN = {"code": "OPN", "name": "open", "version": "1.0", "schema": OPEN_SCHEMA}
CARRIERS: list[tuple[dict[str, Any], str]] = [
    ({"name": "A", "UIN": "6497869071"}, "UIN"),
    ({"name": "A", "mother": {"vid": "1234"}}, "mother.vid"),
    ({"name": "A", "ids": [{"kind": "x"}, {"Uin": "1"}]}, "ids[1].Uin"),
]


async def count(client) -> int:
    listed = await client.get("/data/open/1.0", headers=HEADERS, params={"pageSize": 100})
    return int(listed.json()["count"])


@pytest.mark.parametrize("field", ["uin", "VID"])
async def test_a_registry_schema_may_not_declare_a_national_id(client, field):
    nested = {"type": "object", "properties": {field: {"type": "string"}}}
    for schema in (
        {"type": "object", "properties": {field: {"type": "string"}}},
        {"type": "object", "properties": {"mother": nested}},
    ):
        body = {"code": "NID", "name": "nid", "version": "1.0", "schema": schema}
        refused = await client.post("/database/modify", json=body, headers=HEADERS)
        assert refused.status_code == 400, refused.text
        assert field in refused.json()["detail"] and "national ID" in refused.json()["detail"]
    names = [r["name"] for r in (await client.get("/databases", headers=HEADERS)).json()]
    assert "nid" not in names


async def test_no_write_stores_a_national_id_direct_or_mediated(client):
    assert (await client.post("/database/modify", json=OPEN, headers=HEADERS)).status_code == 200
    kept = await client.post(
        "/data/open/1.0/create", json={"write": {"content": {"name": "A"}}}, headers=HEADERS
    )
    assert kept.status_code == 200, kept.text
    key = kept.json()["content"]["id"]
    query = {"query": {"content": {"name": "A"}}}
    for headers in (HEADERS, mediated(CLIENT)):
        for content, where in CARRIERS:
            for method, path, body in (
                ("POST", "create", {"write": {"content": content}}),
                ("PUT", "update", {**query, "write": {"content": content}}),
                ("PUT", "updateEntries", {**query, "write": {"content": content}}),
                ("POST", "updateOrCreate", {**query, "write": {"content": content}}),
            ):
                answer = await client.request(
                    method, f"/data/open/1.0/{path}", json=body, headers=headers
                )
                assert answer.status_code == 400, (path, answer.text)
                assert answer.json()["detail"].startswith(f"{where}: nationalId ("), answer.text
    assert await count(client) == 1
    read = await client.post("/data/open/1.0/read", json=query, headers=HEADERS)
    assert read.json()["content"] == {"id": key, "name": "A"}, read.text
