"""FHIR reads and the CapabilityStatement name what they do not implement (an OperationOutcome),
as the searches and the history do: `_summary`, `_elements` and other `mode`s are never ignored."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio


def _outcome(response: httpx.Response, status: int, named: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert named in outcome["issue"][0]["diagnostics"]


async def test_reads_refuse_what_they_do_not_implement(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    whole = await c.get("/fhir/Location/XD")
    assert whole.status_code == 200, whole.text
    for name, value in (("_summary", "true"), ("_elements", "id"), ("_contained", "true")):
        _outcome(await c.get("/fhir/Location/XD", params={name: value}), 400, name)
    pretty = await c.get("/fhir/Location/XD", params={"_format": "json", "_pretty": "true"})
    assert pretty.status_code == 200 and pretty.json() == whole.json()


async def test_capability_statement_modes(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    full = await c.get("/fhir/metadata", params={"mode": "full"})
    assert full.status_code == 200 and full.json()["resourceType"] == "CapabilityStatement"
    _outcome(await c.get("/fhir/metadata", params={"mode": "terminology"}), 400, "mode")
    _outcome(await c.get("/fhir/metadata", params={"_summary": "true"}), 400, "_summary")
