"""What DHIS2 defines but the sandbox does not implement is refused, naming it; what it
implements on the way: `fields` transformers, `query=`, the org unit selectors."""

import httpx
import pytest

from services.sectoral_platform.dhis2.endpoints import ENDPOINTS
from services.sectoral_platform.errors import NOT_IMPLEMENTED
from tests.sectoral_platform.conftest import DATA_SET, DISTRICT_1, FACILITIES, REGION, ROOT

pytestmark = pytest.mark.anyio

CONCRETE = {"{collection}": "organisationUnits", "{uid}": ROOT, "{prop}": "children"}


def _url(template: str) -> str:
    for name, value in CONCRETE.items():
        template = template.replace(name, value)
    return template


async def test_every_endpoint_refuses_each_parameter_it_does_not_implement(
    shared_client: httpx.AsyncClient,
) -> None:
    checked = 0
    for (method, template), spec in ENDPOINTS.items():
        for name in sorted(spec.refused):
            response = await shared_client.request(
                method, _url(template), params={name: "x"}, json={}
            )
            assert response.status_code == 409, (method, template, name, response.text)
            body = response.json()
            assert body["status"] == "ERROR" and f"`{name}`" in body["message"]
            assert body["errorCode"] == NOT_IMPLEMENTED
            checked += 1
    assert checked > 100


async def test_unknown_parameters_are_ignored_and_unsupported_values_named(
    shared_client: httpx.AsyncClient,
) -> None:
    ok = await shared_client.get("/api/organisationUnits", params={"someClientFlag": "1"})
    assert ok.status_code == 200
    response = await shared_client.post(
        "/api/metadata", params={"importReportMode": "FULL"}, json={}
    )
    assert response.status_code == 409 and "`importReportMode=FULL`" in response.json()["message"]
    assert response.json()["errorCode"] == NOT_IMPLEMENTED


async def test_metadata_import_of_an_unknown_type_imports_nothing(
    client: httpx.AsyncClient,
) -> None:
    payload = {
        "dataElements": [
            {
                "id": "AbcDefGhi01",
                "name": "New element",
                "shortName": "New element",
                "valueType": "NUMBER",
                "domainType": "AGGREGATE",
                "aggregationType": "SUM",
            }
        ],
        "sqlViews": [{"name": "Hospitals"}],
        "mapViews": [{"name": "Rule"}],
    }
    response = await client.post("/api/metadata", json=payload)
    assert response.status_code == 409
    report = response.json()["response"]
    assert report["responseType"] == "ImportReport" and report["status"] == "ERROR"
    assert [t["klass"] for t in report["typeReports"]] == [
        "mapViews",
        "sqlViews",
    ]
    error = report["typeReports"][1]["objectReports"][0]["errorReports"][0]
    assert "sqlViews" in error["message"] and error["errorCode"] == "E6002"
    assert report["stats"]["ignored"] == 3 and report["stats"]["created"] == 0
    assert (await client.get("/api/dataElements/AbcDefGhi01")).status_code == 404


async def test_fields_transformers(shared_client: httpx.AsyncClient) -> None:
    fields = (
        "id,children~size,children~rename(kids),"
        "children[name]~pluck(name)~rename(names),parent~isNotEmpty"
    )
    body = (
        await shared_client.get(
            "/api/organisationUnits",
            params={"fields": fields, "filter": f"id:eq:{DISTRICT_1}", "paging": "false"},
        )
    ).json()["organisationUnits"][0]
    assert body["children"] == 3
    assert body["kids"] and all(set(k) == {"id"} for k in body["kids"])
    assert len(body["names"]) == 3
    assert all(isinstance(n, str) for n in body["names"])
    assert body["parent"] is True
    leaf = await shared_client.get(
        f"/api/organisationUnits/{FACILITIES[0]}", params={"fields": "children~isEmpty"}
    )
    assert leaf.json() == {"children": True}
    refused = await shared_client.get(
        "/api/organisationUnits", params={"fields": "children~keyBy(name)"}
    )
    assert refused.status_code == 409 and "keyBy" in refused.json()["message"]
    assert refused.json()["errorCode"] == NOT_IMPLEMENTED


async def test_query_on_any_identifiable_type(shared_client: httpx.AsyncClient) -> None:
    everything = (
        await shared_client.get("/api/dataSets", params={"paging": "false", "fields": "id,name"})
    ).json()["dataSets"]
    name = next(d["name"] for d in everything if d["id"] == DATA_SET)
    found = (
        await shared_client.get(
            "/api/dataSets", params={"query": name[2:8].upper(), "fields": "id"}
        )
    ).json()["dataSets"]
    assert {"id": DATA_SET} in found
    assert (await shared_client.get("/api/dataSets", params={"query": "zzzqqq"})).json()[
        "dataSets"
    ] == []


async def test_org_unit_selectors(shared_client: httpx.AsyncClient) -> None:
    async def ids(url: str, **params: str) -> list[str]:
        response = await shared_client.get(
            url, params={"fields": "id", "paging": "false", **params}
        )
        assert response.status_code == 200, response.text
        return [u["id"] for u in response.json()["organisationUnits"]]

    top = await ids("/api/organisationUnits", maxLevel="2")
    assert set(top) == {ROOT, REGION}
    assert set(await ids("/api/organisationUnits", level="4")) == set(FACILITIES)
    children = await ids(f"/api/organisationUnits/{DISTRICT_1}", includeChildren="true")
    assert children[0] == DISTRICT_1 and set(children[1:]) == set(FACILITIES[:3])
    below = await ids(f"/api/organisationUnits/{REGION}", includeDescendants="true")
    assert below[0] == REGION and set(FACILITIES) <= set(below)
    at_level = await ids(f"/api/organisationUnits/{REGION}", level="2")
    assert set(at_level) == set(FACILITIES)
    ancestors = await ids(f"/api/organisationUnits/{DISTRICT_1}", includeAncestors="true")
    assert ancestors == [ROOT, REGION, DISTRICT_1]
    mine = await ids("/api/organisationUnits", userOnly="true", includeDescendants="true")
    assert ROOT in mine and set(FACILITIES) <= set(mine)


async def test_schemas_and_resources_describe_what_is_served(
    shared_client: httpx.AsyncClient,
) -> None:
    schemas = (await shared_client.get("/api/schemas")).json()["schemas"]
    plurals = {s["plural"] for s in schemas}
    assert {"dataElements", "organisationUnits", "dataSets"} <= plurals
    assert "sqlViews" not in plurals and "organisationUnitGroups" in plurals
    for schema in schemas:
        listed = await shared_client.get(schema["relativeApiEndpoint"], params={"pageSize": 1})
        assert listed.status_code == 200, schema["plural"]
    one = (await shared_client.get("/api/schemas/dataElement")).json()
    names = {p["name"] for p in one["properties"]}
    assert {"id", "name", "valueType", "categoryCombo"} <= names
    assert (await shared_client.get("/api/schemas/sqlView")).status_code == 404
    short = (await shared_client.get("/api/schemas", params={"fields": "plural"})).json()
    assert all(set(s) == {"plural"} for s in short["schemas"])
    resources = (await shared_client.get("/api/resources")).json()["resources"]
    hrefs = {r["plural"] for r in resources}
    assert plurals <= hrefs and "dataValueSets" in hrefs


async def test_org_unit_geometry(shared_client: httpx.AsyncClient) -> None:
    found = await shared_client.get(
        f"/api/organisationUnits/{FACILITIES[0]}", params={"fields": "id,geometry"}
    )
    geometry = found.json()["geometry"]
    assert geometry["type"] == "Point" and len(geometry["coordinates"]) == 2
    longitude, latitude = geometry["coordinates"]
    assert -4.0 <= latitude <= 4.0 and 29.0 <= longitude <= 39.0


async def test_the_sandbox_s_own_endpoints_refuse_any_parameter_they_do_not_take(
    shared_client: httpx.AsyncClient,
) -> None:
    """No DHIS2 counterpart to follow: an unknown parameter is named, never ignored."""
    for path in (
        "/api/openData/publications",
        "/api/openData/publications/nosuchthing",
        "/api/identity/registrations/AbcDefGhi01",
        "/api/immunisationStatus",
    ):
        response = await shared_client.get(path, params={"sortBy": "x"})
        assert response.status_code == 400, (path, response.text)
        body = response.json()
        assert "`sortBy`" in body["message"] and body["errorCode"] == NOT_IMPLEMENTED
    listed = await shared_client.get("/api/openData/publications", params={"pageSize": "5"})
    assert listed.status_code == 200 and listed.json()["pager"]["pageSize"] == 5


async def test_dhis2_user_and_system_endpoints_follow_the_table(
    shared_client: httpx.AsyncClient,
) -> None:
    me = await shared_client.get("/api/me", params={"fields": "id,username", "clientFlag": "1"})
    assert me.status_code == 200 and set(me.json()) == {"id", "username"}
    ids = await shared_client.get("/api/system/id", params={"limit": "3", "_": "123"})
    assert ids.status_code == 200 and len(ids.json()["codes"]) == 3
    tokens = await shared_client.get("/api/apiToken", params={"filter": "id:eq:x"})
    assert tokens.status_code == 409 and "`filter`" in tokens.json()["message"]
