"""One way to check query parameters: every DHIS2 route has an entry in the endpoint table (what
DHIS2 defines but the sandbox does not implement is refused, naming it; what DHIS2 does not know
is ignored), every sandbox-own route refuses anything it does not take."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.sectoral_platform.dhis2.endpoints import ENDPOINTS, check_parameters
from services.sectoral_platform.errors import NOT_IMPLEMENTED
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import (
    ANC1,
    DATA_SET,
    DISTRICT_1,
    FACILITIES,
    QUIET,
    ROOT,
)
from tests.security.dhis2_scope_support import api_routes, depends_on

pytestmark = pytest.mark.anyio

# routes that take no check, and why
UNCHECKED = {
    **{
        (m, f"/api/routes/{{ident}}/run{t}"): "a route's query goes to its upstream, as in DHIS2"
        for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
        for t in ("", "/{sub_path:path}")
    },
}


def _sandbox_own(dependant: Any) -> bool:
    return any(
        getattr(d.call, "__qualname__", "") == "sandbox_parameters.<locals>.check"
        for d in dependant.dependencies
    )


def test_every_api_route_is_checked_one_way() -> None:
    app = create_app(SectoralSettings(database_url="sqlite://", **QUIET))
    seen = 0
    for method, path, dependant in api_routes(app):
        if not path.startswith("/api") or method == "HEAD":
            continue
        seen += 1
        key = (method, path)
        table = key in ENDPOINTS and depends_on(dependant, check_parameters)
        own = _sandbox_own(dependant)
        assert table != own or key in UNCHECKED, (key, "table" if table else "no check")
        if key in UNCHECKED:
            assert not table and not own, key
    assert seen > 80
    served = {(m, p) for m, p, _ in api_routes(app)}
    assert set(ENDPOINTS) <= served, sorted(set(ENDPOINTS) - served)


async def _refused(response: httpx.Response, name: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["status"] == "ERROR" and body["httpStatusCode"] == 409
    assert f"`{name}`" in body["message"] and body["errorCode"] == NOT_IMPLEMENTED


async def test_tracker_reads_refuse_what_dhis2_defines(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    cases = (
        ("/api/tracker/trackedEntities", "programStage"),
        ("/api/tracker/trackedEntities", "enrollmentStatus"),
        ("/api/tracker/trackedEntities", "eventOccurredAfter"),
        ("/api/tracker/trackedEntities", "orgUnitIdScheme"),
        ("/api/tracker/enrollments", "trackedEntityType"),
        ("/api/tracker/events", "enrollmentStatus"),
        ("/api/tracker/events", "followUp"),
        ("/api/tracker/events", "programIdScheme"),
        ("/api/tracker/trackedEntities/AbcDefGhi01", "program"),
        ("/api/tracker/events/AbcDefGhi01", "idScheme"),
        ("/api/tracker/jobs/AbcDefGhi01/report", "reportMode"),
    )
    for url, name in cases:
        await _refused(await c.get(url, params={name: "x"}), name)
    # what DHIS2 does not define is ignored, as DHIS2 ignores it
    one = await c.get("/api/tracker/enrollments/AbcDefGhi01", params={"clientFlag": "1"})
    assert one.status_code == 404


async def test_data_value_sets_refuse_what_dhis2_defines(
    shared_client: httpx.AsyncClient,
) -> None:
    c = shared_client
    query = {"dataSet": DATA_SET, "period": "202401", "orgUnit": FACILITIES[0]}
    for name in ("inputOrgUnitIdScheme", "attributeOptions", "categoryOptionIdScheme"):
        await _refused(await c.get("/api/dataValueSets", params={**query, name: "CODE"}), name)
    value = {"dataElement": ANC1, "period": "202401", "orgUnit": FACILITIES[0], "value": "7"}
    for name in ("notificationLevel", "dataSet", "categoryIdScheme"):
        refused = await c.post(
            "/api/dataValueSets", params={name: "x"}, json={"dataValues": [value]}
        )
        await _refused(refused, name)
    after = await c.get("/api/dataValueSets", params=query)
    assert after.json().get("dataValues", []) == []  # nothing imported
    # `skipLastUpdated` is read by no data value import of DHIS2 2.41/2.42: ignored
    ignored = await c.post(
        "/api/dataValueSets", params={"skipLastUpdated": "true", "dryRun": "true"},
        json={"dataValues": [value]},
    )  # fmt: skip
    assert ignored.status_code == 200, ignored.text


async def test_data_value_sets_format_parameter_and_limit(
    shared_client: httpx.AsyncClient,
) -> None:
    c = shared_client
    query = {"dataSet": DATA_SET, "period": "202401", "orgUnit": FACILITIES[0]}
    csv = await c.get("/api/dataValueSets", params={**query, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("application/csv")
    assert csv.text.startswith("dataelement,")
    xml = await c.get("/api/dataValueSets", params={**query, "format": "xml"})
    assert xml.headers["content-type"].startswith("application/xml"), xml.headers
    adx = await c.get("/api/dataValueSets", params={**query, "format": "adx+xml"})
    assert adx.headers["content-type"].startswith("application/adx+xml"), adx.headers
    other = await c.get("/api/dataValueSets", params={**query, "format": "pdf"})
    assert other.headers["content-type"].startswith("application/json")  # DHIS2's default
    bad = await c.get("/api/dataValueSets", params={**query, "limit": "ten"})
    assert bad.status_code == 400 and "`limit`" in bad.json()["message"]


async def test_metadata_export_selection_and_refusals(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    only = await c.get("/api/metadata", params={"dataSets:fields": "id"})
    assert only.status_code == 200
    assert set(only.json()) == {"system", "dataSets"}  # a `:fields` selects its type alone
    assert {"id": DATA_SET} in only.json()["dataSets"]
    both = await c.get("/api/metadata", params={"dataSets": "true", "categories:fields": "id"})
    assert set(both.json()) == {"system", "dataSets", "categories"}
    for name in ("sqlViews:fields", "mapViews:filter"):
        await _refused(await c.get("/api/metadata", params={name: "id"}), name)
    for name in ("filter", "order", "defaults", "skipSharing", "download"):
        await _refused(await c.get("/api/metadata", params={name: "x"}), name)
    # keys DHIS2 does not read (no type of that name, no suffix) are ignored
    assert (await c.get("/api/metadata", params={"dataSets": "true", "x": "1"})).status_code == 200


async def test_metadata_writes_refuse_import_parameters_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = (await client.get(f"/api/organisationUnits/{DISTRICT_1}")).json()
    changed = {**before, "name": "Renamed"}
    url = f"/api/organisationUnits/{DISTRICT_1}"
    await _refused(
        await client.put(url, params={"importStrategy": "UPDATE"}, json=changed), "importStrategy"
    )
    patch = [{"op": "replace", "path": "/name", "value": "Renamed"}]
    patched = await client.patch(
        url, params={"skipValidation": "true"}, json=patch,
        headers={"Content-Type": "application/json-patch+json"},
    )  # fmt: skip
    await _refused(patched, "skipValidation")
    created = await client.post(
        "/api/dataElements", params={"importMode": "VALIDATE"}, json={"name": "x"}
    )
    await _refused(created, "importMode")
    assert (await client.get(url)).json() == before
    # import parameters 2.41+ no longer reads (`mergeMode`) are ignored, as DHIS2 ignores them
    ignored = await client.post("/api/metadata", params={"mergeMode": "MERGE"}, json={})
    assert ignored.status_code == 200, ignored.text
    assert (await client.get(f"/api/organisationUnits/{ROOT}")).status_code == 200


async def test_sandbox_own_routes_refuse_any_parameter(shared_client: httpx.AsyncClient) -> None:
    c = shared_client
    for method, url in (
        ("GET", "/api/events/outbox"),
        ("POST", "/api/events/outbox/drain"),
        ("POST", "/api/tracker/aggregate"),
        ("POST", "/api/facilityRegistry/sync"),
        ("POST", "/api/openData/publications"),
    ):
        response = await c.request(method, url, params={"sortBy": "x"}, json={})
        assert response.status_code == 400, (url, response.text)
        body = response.json()
        assert "`sortBy`" in body["message"] and body["errorCode"] == NOT_IMPLEMENTED
    pending = await c.get("/api/events/outbox", params={"pending": "true"})
    assert pending.status_code == 200


async def test_bad_import_parameters_are_refused_before_the_body_is_read(
    shared_client: httpx.AsyncClient,
) -> None:
    """The body is no JSON: a refusal naming the parameter, not the body, shows it was not read."""
    for url, name in (
        ("/api/tracker", "importStrategy"),
        ("/api/metadata", "importStrategy"),
        ("/api/completeDataSetRegistrations", "importStrategy"),
        ("/api/dataValueSets", "importStrategy"),
    ):
        response = await shared_client.post(
            url,
            params={name: "SIDEWAYS"},
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code in (400, 409), (url, response.text)
        message = response.json()["message"]
        assert "SIDEWAYS" in message and "JSON" not in message, (url, message)
