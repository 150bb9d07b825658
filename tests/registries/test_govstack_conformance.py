"""Every Data API response validates against the GovStack Digital Registries OpenAPI file
(openapi-core over the recorded responses of a walk through every operation)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.registries.main import app
from tests.govstack_conformance import Recorder, load_contract, undeclared_parameters
from tests.registries.conftest import HEADERS, mediated
from tests.registries.test_data_api import People

pytestmark = pytest.mark.anyio

BASE = "/data/{registryName}/{versionNumber}"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return load_contract("registries-data-openapi.yaml")


async def test_every_response_of_every_operation_validates(
    shared_client: httpx.AsyncClient, contract: dict[str, Any]
) -> None:
    c, recorder = shared_client, Recorder(contract)
    people = People(c, name="conformance", code="CNF")
    await people.make()
    base, rec = people.base, recorder.record

    async def call(template: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = rec(template, await c.request(method, path, headers=HEADERS, **kwargs))
        assert response.status_code < 500, response.text
        return response

    def query(content: dict[str, Any], write: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"query": {"content": content}}
        return body if write is None else {**body, "write": {"content": write}}

    first = await call(BASE, "GET", base, params={"pageSize": 2})
    middle = await call(BASE, "GET", base, params={"pageSize": 2, "page": 2})
    last = await call(BASE, "GET", base, params={"pageSize": 2, "page": 3})
    assert "previous" not in first.json() and "next" not in last.json()
    assert isinstance(middle.json()["next"], str) and isinstance(middle.json()["previous"], str)
    new = {"firstName": "Neema", "lastName": "Ali"}
    await call(f"{BASE}/create", "POST", f"{base}/create", json={"write": {"content": new}})
    await call(f"{BASE}/exists", "POST", f"{base}/exists", json=query({"lastName": "Smith"}))
    await call(f"{BASE}/exists", "POST", f"{base}/exists", json=query({"lastName": "X"}))
    read = await call(f"{BASE}/read", "POST", f"{base}/read", json=query({"id": "P2"}))
    absent = await call(f"{BASE}/read", "POST", f"{base}/read", json=query({"id": "P9"}))
    assert (read.status_code, absent.status_code) == (200, 404)
    update = query({"id": "P1"}, {"age": 31})
    await call(f"{BASE}/update", "PUT", f"{base}/update", json=update)
    many = query({"age": 30}, {"birthCertificateId": "RR-1"})
    await call(f"{BASE}/updateEntries", "PUT", f"{base}/updateEntries", json=many)
    upsert = query({"id": "P7"}, {"id": "P7", "firstName": "Imani", "lastName": "Said"})
    await call(f"{BASE}/updateOrCreate", "POST", f"{base}/updateOrCreate", json=upsert)
    value = f"{BASE}/{{uuid}}/readValue/{{field}}.{{ext}}"
    await call(value, "GET", f"{base}/P2/readValue/firstName.json")
    teacher = mediated("DPI/GOV/MOE/emis", **{"X-Road-UserId": "XD Mary Jane"})
    await c.post(f"{base}/read", json=query({"id": "P3"}), headers=teacher)
    usage = "/data/myPersonalDataUsage"
    for person in ("P3", "P2"):  # a named reader (initials) and a reader known by a code
        params = {"userId": person, "databaseId": people.code}
        answered = await call(usage, "GET", usage, params=params)
        assert answered.status_code == 200 and answered.json()
    await call(f"{BASE}/{{ID}}/delete", "DELETE", f"{base}/P2/delete")

    served = {(m, p) for p, item in contract["paths"].items() for m in item if m != "parameters"}
    assert recorder.operations() == served
    assert recorder.violations() == []


def test_every_spec_parameter_is_declared():
    """A query or header parameter the Data API defines but a route does not declare would be
    dropped unseen (`query.<fieldName>` is read by the list route itself)."""
    contract = load_contract("registries-data-openapi.yaml")
    assert undeclared_parameters(app.openapi(), contract) == []
