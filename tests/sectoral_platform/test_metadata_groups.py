"""Groups, group sets, constants, legend sets, attributes and user groups through the generic
metadata API: import, paging, fields, filters, order, inverses, export and deletion."""

from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import ANC1, ANC4, BCG

pytestmark = pytest.mark.anyio

PAYLOAD: dict[str, Any] = {
    "dataElementGroups": [
        {"id": "MgDeGroup01", "name": "ANC", "shortName": "ANC",
         "dataElements": [{"id": ANC1}, {"id": ANC4}]},
        {"id": "MgDeGroup02", "name": "Immunisation", "shortName": "Immunisation",
         "dataElements": [{"id": BCG}]},
    ],
    "dataElementGroupSets": [
        {"id": "MgDeGrpSet1", "name": "Programme", "shortName": "Programme",
         "dataElementGroups": [{"id": "MgDeGroup01"}, {"id": "MgDeGroup02"}]},
    ],
    "constants": [
        {"id": "MgConst0001", "name": "Pi", "shortName": "Pi", "value": 3.14159},
        {"id": "MgConst0002", "name": "Weeks per year", "shortName": "Weeks", "value": 52},
    ],
    "legendSets": [
        {"id": "MgLegendSt1", "name": "Coverage",
         "legends": [{"id": "MgLegend001", "name": "Low", "startValue": 0, "endValue": 50,
                      "color": "#d7191c"},
                     {"id": "MgLegend002", "name": "High", "startValue": 50, "endValue": 100,
                      "color": "#1a9641"}]},
    ],
    "attributes": [
        {"id": "MgAttrib001", "name": "Source", "shortName": "Source", "valueType": "TEXT",
         "dataElementAttribute": True},
    ],
    "userGroups": [{"id": "MgUserGrp01", "name": "District officers"}],
    "indicatorGroups": [{"id": "MgIndGroup1", "name": "Coverage indicators"}],
}  # fmt: skip


async def test_import_list_and_export(client: httpx.AsyncClient) -> None:
    imported = await client.post("/api/metadata", json=PAYLOAD)
    assert imported.status_code == 200, imported.text
    report = imported.json()["response"]
    assert report["stats"]["created"] == sum(len(v) for v in PAYLOAD.values())
    klasses = [t["klass"] for t in report["typeReports"]]
    assert "org.hisp.dhis.dataelement.DataElementGroup" in klasses
    assert "org.hisp.dhis.constant.Constant" in klasses

    listed = await client.get(
        "/api/dataElementGroups",
        params={"fields": "id,name,dataElements", "order": "name:desc", "pageSize": 1},
    )
    body = listed.json()
    assert body["pager"]["total"] == 2 and body["pager"]["pageCount"] == 2
    assert body["dataElementGroups"] == [
        {"id": "MgDeGroup02", "name": "Immunisation", "dataElements": [{"id": BCG}]}
    ]
    filtered = await client.get(
        "/api/dataElementGroups",
        params={"filter": f"dataElements.id:eq:{ANC4}", "fields": "id"},
    )
    assert filtered.json()["dataElementGroups"] == [{"id": "MgDeGroup01"}]
    group = (await client.get("/api/dataElementGroups/MgDeGroup01")).json()
    assert group["groupSets"] == [{"id": "MgDeGrpSet1"}]
    big = await client.get(
        "/api/constants", params={"filter": "value:gt:10", "fields": "name,value"}
    )
    assert big.json()["constants"] == [{"name": "Weeks per year", "value": 52}]
    legends = (await client.get("/api/legendSets/MgLegendSt1", params={"fields": "legends"})).json()
    assert [legend["endValue"] for legend in legends["legends"]] == [50, 100]
    attribute = (await client.get("/api/attributes/MgAttrib001")).json()
    assert attribute["dataElementAttribute"] is True and attribute["userAttribute"] is False

    exported = (await client.get("/api/metadata", params={"fields": ":owner"})).json()
    for plural, objects in PAYLOAD.items():
        assert {o["id"] for o in exported[plural]} == {o["id"] for o in objects}, plural
    schema = (await client.get("/api/schemas/validationRule")).json()
    assert schema["klass"] == "org.hisp.dhis.validation.ValidationRule"


async def test_delete_by_import_and_refused_references(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/metadata", json=PAYLOAD)).status_code == 200
    blocked = await client.post(
        "/api/metadata",
        params={"importStrategy": "DELETE"},
        json={"dataElementGroups": [{"id": "MgDeGroup01"}]},
    )
    assert blocked.status_code == 409
    errors = blocked.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"]
    assert errors[0]["errorCode"] == "E4030"
    for payload in ({"dataElementGroupSets": [{"id": "MgDeGrpSet1"}]},
                    {"dataElementGroups": [{"id": "MgDeGroup01"}]}):  # fmt: skip
        deleted = await client.post(
            "/api/metadata", params={"importStrategy": "DELETE"}, json=payload
        )
        assert deleted.status_code == 200 and deleted.json()["response"]["stats"]["deleted"] == 1
    assert (await client.get("/api/dataElementGroups/MgDeGroup01")).status_code == 404
    dangling = await client.post(
        "/api/metadata",
        json={"dataElementGroups": [{"id": "MgDeGroup03", "name": "X", "shortName": "X",
                                     "dataElements": [{"id": "NoSuchDe001"}]}]},
    )  # fmt: skip
    assert dangling.status_code == 409
    report = dangling.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"]
    assert report[0]["errorCode"] == "E5002"


@pytest.mark.parametrize(
    ("plural", "obj", "prop"),
    [
        ("constants", {"id": "MgConst0009", "name": "Bad", "shortName": "Bad", "value": "x"},
         "value"),
        ("legendSets", {"id": "MgLegendSt9", "name": "Bad",
                        "legends": [{"name": "L", "startValue": 10, "endValue": 5}]}, "legends"),
        ("attributes", {"id": "MgAttrib009", "name": "Bad", "shortName": "Bad"}, "valueType"),
    ],
)  # fmt: skip
async def test_invalid_objects_refused(
    client: httpx.AsyncClient, plural: str, obj: dict[str, Any], prop: str
) -> None:
    response = await client.post("/api/metadata", json={plural: [obj]})
    assert response.status_code == 409
    errors = response.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"]
    assert errors[0]["errorProperty"] == prop
    assert (await client.get(f"/api/{plural}/{obj['id']}")).status_code == 404
