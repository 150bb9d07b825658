"""The master facility list through the GovStack Data API: a read-only registry view."""

from __future__ import annotations

import httpx
import pytest

from tests.registries.conftest import HEADERS

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(shared_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return shared_client


BASE = "/data/facilities/1.0"
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


async def test_search_and_read_the_pilot_list(client):
    everything = (await client.get(BASE, headers=HEADERS, params={"pageSize": 100})).json()
    assert everything["count"] == 10
    assert [r["id"] for r in everything["results"][:3]] == ["XD", "XD-R01", "XD-R01-D01"]
    district = await client.get(
        BASE, headers=HEADERS, params={"query.partOf": "XD-R01-D01", "query.level": "facility"}
    )
    assert [r["id"] for r in district.json()["results"]] == [
        "XD-R01-D01-F001",
        "XD-R01-D01-F002",
        "XD-R01-D01-F003",
    ]
    hospitals = await client.get(BASE, headers=HEADERS, params={"search": "district hospital"})
    assert [r["type"] for r in hospitals.json()["results"]] == ["hospital", "hospital"]
    newest_first = await client.get(BASE, headers=HEADERS, params={"ordering": "descending"})
    assert newest_first.json()["results"][0]["id"] == "XD-R01-D02-F003"
    read = await client.post(
        f"{BASE}/read", headers=HEADERS, json={"query": {"content": {"id": "XD-R01-D02-F001"}}}
    )
    fhir = (await client.get("/fhir/Location/XD-R01-D02-F001")).json()
    assert read.json()["content"]["name"] == fhir["name"]
    assert read.json()["content"]["lastUpdated"] == fhir["meta"]["lastUpdated"]
    exists = await client.post(
        f"{BASE}/exists", headers=HEADERS, json={"query": {"content": {"level": "region"}}}
    )
    assert exists.json()["answer"]["status"] is True
    value = await client.get(f"{BASE}/XD-R01/readValue/level.json", headers=HEADERS)
    assert value.json() == {"value": "region"}
    missing = await client.post(
        f"{BASE}/read", headers=HEADERS, json={"query": {"content": {"id": "XD-R09"}}}
    )
    assert missing.status_code == 404 and missing.json() == {"detail": "no record found"}


async def test_the_view_is_read_only_and_follows_admin_changes(client):
    write = {"write": {"content": {"name": "X"}}}
    assert (await client.post(f"{BASE}/create", json=write, headers=HEADERS)).status_code == 403
    query_write = {"query": {"content": {"id": "XD-R01-D01-F001"}}, **write}
    for method, path in (("PUT", "update"), ("PUT", "updateEntries"), ("POST", "updateOrCreate")):
        response = await client.request(method, f"{BASE}/{path}", json=query_write, headers=HEADERS)
        assert response.status_code == 403 and "/admin/facilities" in response.json()["detail"]
    deleted = await client.delete(f"{BASE}/XD-R01-D01-F001/delete", headers=HEADERS)
    assert deleted.status_code == 403
    renamed = await client.patch(
        "/admin/facilities/XD-R01-D01-F002", headers=ADMIN, json={"name": "Uhuru Clinic"}
    )
    assert renamed.status_code == 200
    value = await client.get(f"{BASE}/XD-R01-D01-F002/readValue/name.txt", headers=HEADERS)
    assert value.text == "Uhuru Clinic"
