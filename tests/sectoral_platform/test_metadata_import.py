"""Single-object writes (ObjectReports) and `/api/metadata` import/export (ImportReport)."""

from typing import Any

import httpx
import pytest

from services.sectoral_platform.seed.loader import metadata_file
from tests.sectoral_platform.conftest import ANC1, DATA_SET, FACILITIES

pytestmark = pytest.mark.anyio

NEW_DE = {
    "name": "Measles cases",
    "shortName": "Measles cases",
    "code": "HS_MEASLES_CASES",
    "valueType": "INTEGER_ZERO_OR_POSITIVE",
    "aggregationType": "SUM",
    "domainType": "AGGREGATE",
}


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/metadata", params={"fields": ":owner"})
    body: dict[str, Any] = response.json()
    body.pop("system")
    return body


async def test_create_read_update_delete_one_object(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/dataElements", json=NEW_DE)
    assert created.status_code == 201
    body = created.json()
    assert body["httpStatus"] == "Created" and body["httpStatusCode"] == 201
    assert body["status"] == "OK"
    report = body["response"]
    assert report["responseType"] == "ObjectReport" and report["errorReports"] == []
    assert report["klass"] == "org.hisp.dhis.dataelement.DataElement"
    uid = report["uid"]
    read = (await client.get(f"/api/dataElements/{uid}")).json()
    assert read["name"] == "Measles cases" and read["categoryCombo"] == {"id": "bjDvmb4bfuf"}
    assert read["created"] and read["createdBy"]["id"]
    updated = await client.put(
        f"/api/dataElements/{uid}", json={**NEW_DE, "name": "Measles cases (new)"}
    )
    assert updated.status_code == 200 and updated.json()["response"]["uid"] == uid
    assert (await client.get(f"/api/dataElements/{uid}")).json()["name"] == "Measles cases (new)"
    deleted = await client.delete(f"/api/dataElements/{uid}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "OK"
    assert (await client.get(f"/api/dataElements/{uid}")).status_code == 404
    assert (await client.delete(f"/api/dataElements/{uid}")).status_code == 404


async def test_object_errors_are_409_with_error_reports(client: httpx.AsyncClient) -> None:
    before = await snapshot(client)
    missing = await client.post("/api/dataElements", json={"name": "Half"})
    assert missing.status_code == 409
    codes = {e["errorCode"] for e in missing.json()["response"]["errorReports"]}
    assert codes == {"E4000"}
    props = {e["errorProperty"] for e in missing.json()["response"]["errorReports"]}
    assert {"shortName", "valueType", "aggregationType"} <= props
    dangling = await client.post(
        "/api/dataElements", json={**NEW_DE, "categoryCombo": {"id": "Xxxxxxxxxx1"}}
    )
    assert dangling.status_code == 409
    assert dangling.json()["response"]["errorReports"][0]["errorCode"] == "E5002"
    duplicate = await client.post("/api/dataElements", json={**NEW_DE, "name": "ANC 1st visit"})
    assert duplicate.status_code == 409
    assert duplicate.json()["response"]["errorReports"][0]["errorCode"] == "E5003"
    bad_uid = await client.post("/api/dataElements", json={**NEW_DE, "id": "1nvalid"})
    assert bad_uid.json()["response"]["errorReports"][0]["errorCode"] == "E4014"
    bad_enum = await client.post("/api/dataElements", json={**NEW_DE, "valueType": "BLOB"})
    assert bad_enum.status_code == 400 and bad_enum.json()["status"] == "ERROR"
    in_use = await client.delete(f"/api/dataElements/{ANC1}")
    assert in_use.status_code == 409
    assert in_use.json()["response"]["errorReports"][0]["errorCode"] == "E4030"
    assert await snapshot(client) == before


async def test_metadata_import_report_and_strategies(client: httpx.AsyncClient) -> None:
    payload = {"dataElements": [{**NEW_DE, "id": "MeAsLeS0001"}]}
    response = await client.post("/api/metadata", json=payload)
    assert response.status_code == 200
    body = response.json()
    assert body["httpStatus"] == "OK" and body["status"] == "OK"
    report = body["response"]
    assert report["responseType"] == "ImportReport" and report["status"] == "OK"
    assert report["stats"] == {"created": 1, "updated": 0, "deleted": 0, "ignored": 0, "total": 1}
    assert report["typeReports"][0]["klass"] == "org.hisp.dhis.dataelement.DataElement"
    again = (await client.post("/api/metadata", json=payload)).json()["response"]["stats"]
    assert again == {"created": 0, "updated": 1, "deleted": 0, "ignored": 0, "total": 1}
    create_only = await client.post(
        "/api/metadata", params={"importStrategy": "CREATE"}, json=payload
    )
    assert create_only.status_code == 409
    errors = create_only.json()["response"]["typeReports"][0]["objectReports"][0]["errorReports"]
    assert errors[0]["errorCode"] == "E5000"
    update_missing = await client.post(
        "/api/metadata",
        params={"importStrategy": "UPDATE"},
        json={"dataElements": [{**NEW_DE, "id": "MeAsLeS0002", "name": "x", "shortName": "x"}]},
    )
    assert update_missing.status_code == 409
    deleted = await client.post("/api/metadata", params={"importStrategy": "DELETE"}, json=payload)
    assert deleted.json()["response"]["stats"]["deleted"] == 1
    assert (await client.get("/api/dataElements/MeAsLeS0001")).status_code == 404
    bad = await client.post("/api/metadata", params={"importStrategy": "MERGE"}, json=payload)
    assert bad.status_code == 400


async def test_atomic_all_rejects_everything_atomic_none_keeps_valid(
    client: httpx.AsyncClient,
) -> None:
    payload = {
        "dataElements": [
            {**NEW_DE, "id": "GoodDe00001"},
            {
                **NEW_DE,
                "id": "BadDe000001",
                "name": "Other",
                "shortName": "Other",
                "code": "HS_OTHER",
                "optionSet": {"id": "Nosuchset01"},
            },
        ]
    }
    before = await snapshot(client)
    atomic = await client.post("/api/metadata", json=payload)
    assert atomic.status_code == 409
    body = atomic.json()
    assert body["status"] == "ERROR" and body["response"]["status"] == "ERROR"
    assert body["response"]["stats"]["created"] == 0 and body["response"]["stats"]["ignored"] == 2
    reports = body["response"]["typeReports"][0]["objectReports"]
    assert [r["index"] for r in reports] == [1]
    assert reports[0]["errorReports"][0]["errorCode"] == "E5002"
    assert await snapshot(client) == before
    partial = await client.post("/api/metadata", params={"atomicMode": "NONE"}, json=payload)
    assert partial.status_code == 200
    assert partial.json()["response"]["status"] == "WARNING"
    assert partial.json()["response"]["stats"]["created"] == 1
    assert (await client.get("/api/dataElements/GoodDe00001")).status_code == 200
    assert (await client.get("/api/dataElements/BadDe000001")).status_code == 404


async def test_validate_mode_changes_nothing(client: httpx.AsyncClient) -> None:
    before = await snapshot(client)
    good = await client.post(
        "/api/metadata", params={"importMode": "VALIDATE"}, json=metadata_file("education.json")
    )
    assert good.status_code == 200 and good.json()["response"]["status"] == "OK"
    bad = await client.post(
        "/api/metadata",
        params={"importMode": "validate"},
        json={"dataElements": [{"name": "no short name"}]},
    )
    assert bad.status_code == 409
    assert await snapshot(client) == before


async def test_export_with_type_selection_fields_and_filters(client: httpx.AsyncClient) -> None:
    body = (
        await client.get(
            "/api/metadata",
            params={
                "dataSets": "true",
                "dataElements": "true",
                "dataElements:fields": "id,code",
                "dataElements:filter": "code:$like:HS_ANC",
            },
        )
    ).json()
    assert set(body) == {"system", "dataSets", "dataElements"}
    assert sorted(d["code"] for d in body["dataElements"]) == ["HS_ANC1", "HS_ANC4"]
    assert body["dataSets"][0]["id"] == DATA_SET and "periodType" in body["dataSets"][0]
    assert len(body["dataSets"][0]["organisationUnits"]) == len(FACILITIES)


async def test_export_reimports_as_updates(client: httpx.AsyncClient) -> None:
    exported = await snapshot(client)
    assert "password" not in str(exported["users"]) and "Hash" not in str(exported["users"])
    response = await client.post("/api/metadata", json=exported)
    assert response.status_code == 200, response.text
    stats = response.json()["response"]["stats"]
    assert stats["created"] == 0 and stats["updated"] == stats["total"] > 0
    assert (await client.get("/api/me", auth=("admin", "district"))).status_code == 200


async def test_education_sector_is_only_a_metadata_import(client: httpx.AsyncClient) -> None:
    """A second sector: schools, categories by sex, a data set and an indicator, no code."""
    response = await client.post("/api/metadata", json=metadata_file("education.json"))
    assert response.status_code == 200, response.text
    stats = response.json()["response"]["stats"]
    assert stats["created"] == stats["total"] == 14 and stats["ignored"] == 0
    schools = (
        await client.get(
            "/api/organisationUnits",
            params={"filter": "name:like:School", "fields": "id,level,path"},
        )
    ).json()
    assert len(schools["organisationUnits"]) == 3
    assert all(s["level"] == 4 for s in schools["organisationUnits"])
    ds = (
        await client.get(
            "/api/dataSets",
            params={
                "filter": "code:eq:EMIS_MONTHLY",
                "fields": "id,periodType,dataSetElements[dataElement["
                "id,categoryCombo[categoryOptionCombos[id,name]]]]",
            },
        )
    ).json()["dataSets"][0]
    assert ds["periodType"] == "Monthly" and len(ds["dataSetElements"]) == 3
    enrolment = next(
        e["dataElement"]
        for e in ds["dataSetElements"]
        if len(e["dataElement"]["categoryCombo"]["categoryOptionCombos"]) == 2
    )
    female = next(
        c["id"] for c in enrolment["categoryCombo"]["categoryOptionCombos"] if c["name"] == "Female"
    )
    school = schools["organisationUnits"][0]["id"]
    imported = await client.post(
        "/api/dataValueSets",
        json={
            "dataSet": ds["id"],
            "period": "202409",
            "orgUnit": school,
            "dataValues": [
                {"dataElement": enrolment["id"], "categoryOptionCombo": female, "value": "41"},
            ],
        },
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["response"]["importCount"]["imported"] == 1
