"""Lists: paging edge cases, `fields=`, `filter=` (every operator, nested paths), `order=`."""

from typing import Any

import httpx
import pytest

from tests.sectoral_platform.conftest import (
    ANC1,
    ANC4,
    DATA_SET,
    DISTRICT_1,
    FACILITIES,
    REGION,
    ROOT,
)

pytestmark = pytest.mark.anyio


async def names(client: httpx.AsyncClient, *filters: str, **params: str) -> list[str]:
    query: list[tuple[str, Any]] = [("filter", f) for f in filters] + [
        ("paging", "false"),
        ("fields", "name,domainType"),
    ]
    query += list(params.items())
    response = await client.get("/api/dataElements", params=query)
    assert response.status_code == 200, response.text
    elements = response.json()["dataElements"]
    # the tracker's data elements (domain TRACKER) are not part of these expectations
    return sorted(d["name"] for d in elements if d["domainType"] == "AGGREGATE")


async def test_paging_pages_last_page_and_empty(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    first = (await client.get("/api/organisationUnits", params={"pageSize": 4})).json()
    assert first["pager"] == {
        "page": 1,
        "total": 10,
        "pageSize": 4,
        "pageCount": 3,
        "nextPage": first["pager"]["nextPage"],
    }
    assert first["pager"]["nextPage"].startswith("http://test/api/organisationUnits?")
    assert "page=2" in first["pager"]["nextPage"] and "pageSize=4" in first["pager"]["nextPage"]
    last = (await client.get("/api/organisationUnits", params={"pageSize": 4, "page": 3})).json()
    assert len(last["organisationUnits"]) == 2
    assert "nextPage" not in last["pager"] and "page=2" in last["pager"]["prevPage"]
    beyond = (await client.get("/api/organisationUnits", params={"pageSize": 4, "page": 9})).json()
    assert beyond["organisationUnits"] == [] and beyond["pager"]["pageCount"] == 3
    none = {"filter": "programType:eq:WITHOUT_REGISTRATION"}
    empty = (await client.get("/api/programs", params=none)).json()
    assert empty["programs"] == []
    assert empty["pager"] == {"page": 1, "total": 0, "pageSize": 50, "pageCount": 1}
    unpaged = (await client.get("/api/organisationUnits", params={"paging": "FALSE"})).json()
    assert "pager" not in unpaged and len(unpaged["organisationUnits"]) == 10
    seen: list[str] = []
    for page in (1, 2, 3):
        params = {"pageSize": 4, "page": page, "fields": "id"}
        body = (await client.get("/api/organisationUnits", params=params)).json()
        seen += [u["id"] for u in body["organisationUnits"]]
    assert len(seen) == len(set(seen)) == 10
    assert (await client.get("/api/dataElements", params={"page": "x"})).status_code == 400


async def test_default_fields_and_types(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    body = (await client.get("/api/dataElements", params={"pageSize": 1})).json()
    assert set(body["dataElements"][0]) == {"id", "displayName"}
    unit = (await client.get(f"/api/organisationUnits/{FACILITIES[0]}")).json()
    assert isinstance(unit["level"], int) and unit["parent"] == {"id": DISTRICT_1}
    assert unit["path"].startswith(f"/{ROOT}/") and unit["path"].endswith(FACILITIES[0])


async def test_fields_nesting_presets_and_exclusion(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    de = (
        await client.get(
            f"/api/dataElements/{ANC1}",
            params={
                "fields": "id,name,categoryCombo[id,name,categoryOptionCombos[id,name]],"
                "dataSetElements[dataSet[id,periodType]]"
            },
        )
    ).json()
    assert de == {
        "id": ANC1,
        "name": "ANC 1st visit",
        "categoryCombo": {
            "id": "bjDvmb4bfuf",
            "name": "default",
            "categoryOptionCombos": [{"id": "HllvX50cXC0", "name": "default"}],
        },
        "dataSetElements": [{"dataSet": {"id": DATA_SET, "periodType": "Monthly"}}],
    }
    everything = (await client.get(f"/api/dataElements/{ANC1}", params={"fields": "*"})).json()
    assert {"valueType", "aggregationType", "domainType", "created", "href"} <= set(everything)
    assert everything["categoryCombo"] == {"id": "bjDvmb4bfuf"}
    owner = (
        await client.get(f"/api/dataElements/{ANC1}", params={"fields": ":owner,!code"})
    ).json()
    assert "code" not in owner and "displayName" not in owner and owner["valueType"]
    ident = (
        await client.get(f"/api/dataElements/{ANC1}", params={"fields": ":identifiable"})
    ).json()
    assert "valueType" not in ident and ident["code"] == "HS_ANC1"
    all_but = (
        await client.get(f"/api/dataElements/{ANC1}", params={"fields": ":all,!href,!id"})
    ).json()
    assert "href" not in all_but and "id" not in all_but and "name" in all_but
    unknown = (
        await client.get(f"/api/dataElements/{ANC1}", params={"fields": "id,nothing"})
    ).json()
    assert unknown == {"id": ANC1}


async def test_invalid_fields_are_400_not_500(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    for fields in ("id,dataSets[id", "id]", "[id]", "a[b[c]"):
        response = await client.get("/api/dataSets", params={"fields": fields})
        assert response.status_code == 400, fields
        assert response.json()["status"] == "ERROR" and "fields" in response.json()["message"]


async def test_every_filter_operator(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    assert await names(client, "name:eq:ANC 1st visit") == ["ANC 1st visit"]
    assert await names(client, "name:ieq:anc 1st VISIT") == ["ANC 1st visit"]
    assert len(await names(client, "name:!eq:ANC 1st visit")) == 10
    assert len(await names(client, "name:ne:ANC 1st visit")) == 10
    assert await names(client, "name:like:ANC") == ["ANC 1st visit", "ANC 4th or more visits"]
    assert await names(client, "name:like:anc 1") == []
    assert len(await names(client, "name:!like:ANC")) == 9
    assert await names(client, "name:ilike:anc 4") == ["ANC 4th or more visits"]
    assert len(await names(client, "name:!ilike:anc")) == 8  # "attendance" matches too
    assert await names(client, "name:$like:BCG") == ["BCG doses given"]
    assert await names(client, "name:$ilike:bcg") == ["BCG doses given"]
    assert await names(client, "name:like$:visits") == ["ANC 4th or more visits"]
    assert await names(client, "name:ilike$:VISITS") == ["ANC 4th or more visits"]
    assert await names(client, "code:gt:HS_OPD") == ["Penta 3 doses given"]
    assert "ACT stock-out" in await names(client, "code:lt:HS_ANC1")
    assert "ANC 1st visit" in await names(client, "code:le:HS_ANC1")
    assert await names(client, "optionSet:!null") == ["Facility service level"]
    assert len(await names(client, "optionSet:null")) == 10
    assert await names(client, "dataSetElements:empty") == []
    assert len(await names(client, "dataSetElements:!empty")) == 11
    assert await names(client, "name:token:dose bcg") == ["BCG doses given"]
    assert "BCG doses given" not in await names(client, "name:!token:bcg")
    ids = f"id:in:[{ANC1},{ANC4}]"
    assert await names(client, ids) == ["ANC 1st visit", "ANC 4th or more visits"]
    assert len(await names(client, f"id:!in:[{ANC1},{ANC4}]")) == 9
    assert await names(client, "zeroIsSignificant:eq:true") == []
    assert len(await names(client, "zeroIsSignificant:eq:false")) == 11


async def test_filters_and_by_default_or_with_root_junction(
    shared_client: httpx.AsyncClient,
) -> None:
    client = shared_client
    both = await names(client, "name:like:ANC", "name:like:4th")
    assert both == ["ANC 4th or more visits"]
    either = await names(client, "name:like:BCG", "name:like:OPD", rootJunction="OR")
    assert either == ["BCG doses given", "OPD attendance"]


async def test_nested_filter_paths(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    in_set = await names(client, f"dataSetElements.dataSet.id:eq:{DATA_SET}")
    assert len(in_set) == 11
    assert await names(client, "dataSetElements.dataSet.id:eq:Xyz12345678") == []
    by_name = await names(client, "dataSetElements.dataSet.name:ilike:monthly health")
    assert len(by_name) == 11
    units = await client.get(
        "/api/organisationUnits",
        params={"filter": f"parent.id:eq:{DISTRICT_1}", "paging": "false", "fields": "id"},
    )
    assert sorted(u["id"] for u in units.json()["organisationUnits"]) == sorted(FACILITIES[:3])
    deep = await client.get(
        "/api/organisationUnits",
        params={"filter": f"parent.parent.parent.id:eq:{ROOT}", "paging": "false"},
    )
    assert len(deep.json()["organisationUnits"]) == 6


async def test_invalid_filters_are_400(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    for expression in (
        "nope:eq:1",
        "name:between:1",
        "name",
        "name:eq",
        "dataSetElements.nope.id:eq:x",
        "name.id:eq:x",
        ":eq:x",
    ):
        response = await client.get("/api/dataElements", params={"filter": expression})
        assert response.status_code == 400, (expression, response.text)
        body = response.json()
        assert body["httpStatusCode"] == 400 and body["status"] == "ERROR" and body["message"]


async def test_order(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    params = {"paging": "false", "fields": "code", "order": "code:desc"}
    desc = [
        d["code"]
        for d in (await client.get("/api/dataElements", params=params)).json()["dataElements"]
    ]
    assert desc == sorted(desc, reverse=True)
    params["order"] = "name:iasc"
    asc = [
        d["code"]
        for d in (await client.get("/api/dataElements", params=params)).json()["dataElements"]
    ]
    assert asc[0] == "HS_ACT_STOCKOUT"
    params["order"] = "name:sideways"
    assert (await client.get("/api/dataElements", params=params)).status_code == 400
    params["order"] = "nope:asc"
    assert (await client.get("/api/dataElements", params=params)).status_code == 400


async def test_org_unit_level_query_and_relatives(shared_client: httpx.AsyncClient) -> None:
    client = shared_client
    level3 = (await client.get("/api/organisationUnits", params={"level": 3})).json()
    assert level3["pager"]["total"] == 2
    found = (await client.get("/api/organisationUnits", params={"query": "zanora"})).json()
    assert [u["id"] for u in found["organisationUnits"]] == [ROOT]
    children = (await client.get(f"/api/organisationUnits/{DISTRICT_1}/children")).json()
    assert sorted(u["id"] for u in children["organisationUnits"]) == sorted(FACILITIES[:3])
    ancestors = (await client.get(f"/api/organisationUnits/{FACILITIES[0]}/ancestors")).json()
    assert {u["id"] for u in ancestors["organisationUnits"]} == {ROOT, REGION, DISTRICT_1}
    assert len(ancestors["organisationUnits"]) == 3
    levels = (
        await client.get(
            "/api/organisationUnitLevels", params={"fields": "level,name", "paging": "false"}
        )
    ).json()
    assert sorted(lv["level"] for lv in levels["organisationUnitLevels"]) == [1, 2, 3, 4]
