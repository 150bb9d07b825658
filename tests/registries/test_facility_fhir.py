"""The facility registry as FHIR R4 mCSD over the generated national list (10,000 facilities).

The list is generated once for the module; the test that changes it runs last.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization
from fhirclient import server as fhir_server  # type: ignore[import-untyped]
from fhirclient.models.location import (  # type: ignore[import-untyped]
    Location as ClientLocation,
)
from fhirclient.models.organization import (  # type: ignore[import-untyped]
    Organization as ClientOrganization,
)

from services.kernel.testing import serve_in_process
from services.registries.facilities import fhir
from services.registries.main import create_app
from services.registries.settings import RegistriesSettings

ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


@pytest.fixture
async def national(national_settings: RegistriesSettings):
    async with serve_in_process(create_app(national_settings)) as client:
        yield client


async def bundle(
    client: httpx.AsyncClient, resource: str = "Location", **params: Any
) -> dict[str, Any]:
    response = await client.get(f"/fhir/{resource}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body: dict[str, Any] = response.json()
    Bundle.model_validate(body)
    return body


async def every_page(
    client: httpx.AsyncClient, url: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Follow `next` links to the end; returns every resource."""
    resources: list[dict[str, Any]] = []
    response = await client.get(url, params=params)
    while True:
        page = response.json()
        resources.extend(e["resource"] for e in page.get("entry", []))
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            return resources
        response = await client.get(nxt[0])


def total(body: dict[str, Any]) -> int:
    value: int = body["total"]
    return value


@pytest.mark.anyio
async def test_hierarchy_of_the_national_list(national):
    assert total(await bundle(national, type="jurisdiction", _count=1)) == 111
    assert total(await bundle(national, type="facility", _count=1)) == 10_000
    regions = await bundle(national, partof="Location/XD", _count=20)
    assert total(regions) == 10 and len(regions["entry"]) == 10
    assert all(e["resource"]["partOf"] == {"reference": "Location/XD"} for e in regions["entry"])
    assert total(await bundle(national, partof="XD-R01", _count=1)) == 10
    assert total(await bundle(national, partof="Location/XD-R01-D01", _count=1)) == 100
    assert (
        total(await bundle(national, "Organization", partof="Organization/XD-R03", _count=1)) == 10
    )
    country = (await national.get("/fhir/Location/XD")).json()
    assert "partOf" not in country and country["name"] == "Republic of Zanora"


@pytest.mark.anyio
async def test_paging_follows_next_links_without_gaps(national):
    first = await bundle(national, partof="Location/XD-R02-D05", _count=30)
    assert len(first["entry"]) == 30 and total(first) == 100
    found = await every_page(
        national, "/fhir/Location", {"partof": "Location/XD-R02-D05", "_count": 30}
    )
    ids = [r["id"] for r in found]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert sorted(ids) == [f"XD-R02-D05-F{n:03d}" for n in range(1, 101)]
    for resource in found[:5]:
        Location.model_validate(resource)


@pytest.mark.anyio
async def test_resources_are_valid_r4_mcsd(national):
    response = await national.get("/fhir/Location/XD-R01-D01-F001")
    assert response.status_code == 200 and response.headers["etag"] == 'W/"1"'
    location = Location.model_validate(response.json())
    assert location.partOf is not None and location.partOf.reference == "Location/XD-R01-D01"
    assert location.identifier is not None and location.identifier[0].value == "XD-R01-D01-F001"
    assert location.position is not None and -4 <= float(location.position.latitude or 99) <= 4
    assert location.meta is not None and location.meta.profile == [
        "https://profiles.ihe.net/ITI/mCSD/StructureDefinition/IHE.mCSD.FacilityLocation"
    ]
    organization = Organization.model_validate(
        (await national.get("/fhir/Organization/XD-R01-D01")).json()
    )
    assert (
        organization.partOf is not None and organization.partOf.reference == "Organization/XD-R01"
    )
    CapabilityStatement.model_validate((await national.get("/fhir/metadata")).json())
    missing = await national.get("/fhir/Organization/XD-R99")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


@pytest.mark.anyio
async def test_name_identifier_and_type_search(national):
    facility = (await national.get("/fhir/Location/XD-R04-D07-F010")).json()
    word = facility["name"].split()[0]
    by_prefix = await bundle(national, name=word.lower()[:4], _count=1000)
    assert facility["id"] in [e["resource"]["id"] for e in by_prefix["entry"]]
    assert all(
        e["resource"]["name"].lower().startswith(word.lower()[:4]) for e in by_prefix["entry"]
    )
    exact = await bundle(national, **{"name:exact": facility["name"], "partof": "XD-R04-D07"})
    assert [e["resource"]["id"] for e in exact["entry"]] == [facility["id"]]
    contains = await bundle(national, **{"name:contains": "district hos", "_count": "1"})
    assert total(contains) == 100
    by_code = await bundle(national, identifier=f"{fhir.CODE_SYSTEM}|XD-R04-D07-F010")
    assert [e["resource"]["id"] for e in by_code["entry"]] == ["XD-R04-D07-F010"]
    assert total(await bundle(national, identifier="XD-R04-D07-F010")) == 1
    assert total(await bundle(national, identifier="other-system|XD-R04-D07-F010")) == 0
    hospitals = await bundle(national, type="hospital", _count=1)
    assert total(hospitals) == 100
    typed = await bundle(
        national, type=f"{fhir.FACILITY_TYPE_SYSTEM}|hospital", partof="XD-R01-D01"
    )
    assert [e["resource"]["id"] for e in typed["entry"]] == ["XD-R01-D01-F001"]
    assert total(await bundle(national, type="district", _count=1)) == 100
    assert total(await bundle(national, "Organization", type="region", _count=1)) == 10
    two = await bundle(national, _id="XD-R01,XD-R02")
    assert sorted(e["resource"]["id"] for e in two["entry"]) == ["XD-R01", "XD-R02"]
    assert total(await bundle(national, partof="XD-R01-D01", status="active", _count=1)) == 100
    assert total(await bundle(national, partof="XD-R01-D01", status="inactive")) == 0
    orgs = await bundle(national, "Organization", partof="XD-R03", active="true", _count=1)
    assert total(orgs) == 10


@pytest.mark.anyio
@pytest.mark.parametrize(
    "params",
    [
        {"colour": "red"},
        {"_count": "0"},
        {"_count": "5000"},
        {"_lastUpdated": "gtyesterday"},
        {"_lastUpdated": "gt2026-01-01T10:00"},
        {"partof": "Organization/XD"},
        {"identifier:missing": "true"},
        {"_cursor": "garbage"},
        {"active": "true"},
    ],
)
async def test_bad_search_is_400_operation_outcome(national, params):
    response = await national.get("/fhir/Location", params=params)
    assert response.status_code == 400
    outcome = response.json()
    assert (
        outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "invalid"
    )


def test_fhirclient_reads_and_pages(live_base):
    client_server = fhir_server.FHIRServer(None, base_uri=live_base)
    search = ClientLocation.where(struct={"partof": "Location/XD-R05-D03", "_count": "40"})
    locations = list(search.perform_resources_iter(client_server))
    assert len(locations) == 100 and all(isinstance(x, ClientLocation) for x in locations)
    assert {x.partOf.reference for x in locations} == {"Location/XD-R05-D03"}
    one = ClientLocation.read("XD-R05-D03-F001", client_server)
    assert one.identifier[0].value == "XD-R05-D03-F001" and one.status == "active"
    org = ClientOrganization.read("XD-R05", client_server)
    assert org.partOf.reference == "Organization/XD" and org.active is True


@pytest.mark.anyio
async def test_links_go_back_through_the_mediator(national_settings):
    settings = national_settings.model_copy(update={"mediator_url": "http://mediator:8002"})
    async with serve_in_process(create_app(settings)) as client:
        via = {"X-Road-Service": "DPI/GOV/CRVS/registries/fhir"}
        page = (
            await client.get("/fhir/Location", params={"partof": "XD-R01-D01"}, headers=via)
        ).json()
        base = "http://mediator:8002/r1/DPI/GOV/CRVS/registries/fhir"
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert links["self"] == f"{base}/Location?partof=XD-R01-D01"
        assert links["next"].startswith(f"{base}/Location?partof=XD-R01-D01&_cursor=")
        assert page["entry"][0]["fullUrl"] == f"{base}/Location/XD-R01-D01-F001"
        direct = (await client.get("/fhir/Location", params={"partof": "XD-R01-D01"})).json()
        assert direct["link"][0]["url"] == "http://test/fhir/Location?partof=XD-R01-D01"


@pytest.mark.anyio
async def test_incremental_sync_returns_exactly_what_changed(national):
    """Runs last in the module: it changes the list."""
    synced = await every_page(national, "/fhir/Location", {"_count": 1000})
    assert len(synced) == 10_111
    since = max(r["meta"]["lastUpdated"] for r in synced)
    assert (await bundle(national, _lastUpdated=f"gt{since}"))["total"] == 0

    added = await national.post(
        "/admin/facilities",
        headers=ADMIN,
        json={"name": "Tumaini Clinic", "district": "XD-R10-D10", "type": "clinic"},
    )
    assert added.status_code == 201 and added.json()["id"] == "XD-R10-D10-F101"
    renamed = await national.patch(
        "/admin/facilities/XD-R09-D01-F004", headers=ADMIN, json={"name": "Renamed Health Centre"}
    )
    moved = await national.patch(
        "/admin/facilities/XD-R09-D02-F005", headers=ADMIN, json={"district": "XD-R09-D03"}
    )
    assert renamed.status_code == 200 and moved.status_code == 200
    unchanged = await national.patch(
        "/admin/facilities/XD-R09-D02-F006",
        headers=ADMIN,
        json={"name": (await national.get("/fhir/Location/XD-R09-D02-F006")).json()["name"]},
    )
    assert unchanged.json()["meta"]["versionId"] == "1"

    changes = await every_page(
        national, "/fhir/Location", {"_lastUpdated": f"gt{since}", "_count": 2}
    )
    assert [r["id"] for r in changes] == ["XD-R10-D10-F101", "XD-R09-D01-F004", "XD-R09-D02-F005"]
    by_id = {r["id"]: r for r in changes}
    assert by_id["XD-R09-D01-F004"]["name"] == "Renamed Health Centre"
    assert by_id["XD-R09-D01-F004"]["meta"]["versionId"] == "2"
    assert by_id["XD-R09-D02-F005"]["partOf"] == {"reference": "Location/XD-R09-D03"}
    orgs = await every_page(national, "/fhir/Organization", {"_lastUpdated": f"gt{since}"})
    assert [r["id"] for r in orgs] == [r["id"] for r in changes]
    assert by_id["XD-R09-D02-F005"]["id"] in [
        e["resource"]["id"]
        for e in (await bundle(national, partof="XD-R09-D03", _count=200))["entry"]
    ]
    latest = max(r["meta"]["lastUpdated"] for r in changes)
    assert latest > since
    assert (await bundle(national, _lastUpdated=f"gt{latest}"))["total"] == 0
    assert (await bundle(national, _lastUpdated=f"ge{latest}"))["total"] == 1


@pytest.mark.anyio
async def test_admin_changes_refuse_bad_input(national_settings):
    async with serve_in_process(create_app(national_settings)) as client:
        assert (
            await client.post("/admin/facilities", json={"name": "X", "district": "XD-R01-D01"})
        ).status_code == 401
        bad_district = await client.post(
            "/admin/facilities", headers=ADMIN, json={"name": "X", "district": "XD-R01"}
        )
        assert bad_district.status_code == 422 and "district" in bad_district.json()["detail"]
        duplicate = await client.post(
            "/admin/facilities",
            headers=ADMIN,
            json={"name": "X", "district": "XD-R01-D01", "code": "XD-R01-D01-F001"},
        )
        assert duplicate.status_code == 409
        region = await client.patch("/admin/facilities/XD-R01", headers=ADMIN, json={"name": "Y"})
        assert region.status_code == 409
        unknown = await client.patch("/admin/facilities/nope", headers=ADMIN, json={"name": "Y"})
        assert unknown.status_code == 404
        closed = await client.patch(
            "/admin/facilities/XD-R02-D02-F002", headers=ADMIN, json={"status": "inactive"}
        )
        assert closed.json()["status"] == "inactive"
        inactive = await bundle(client, status="inactive")
        assert [e["resource"]["id"] for e in inactive["entry"]] == ["XD-R02-D02-F002"]
        dormant = await bundle(client, "Organization", active="false")
        assert [e["resource"]["active"] for e in dormant["entry"]] == [False]
        counts = (await client.get("/admin/facilities", headers=ADMIN)).json()
        assert counts["district"] == 100 and counts["region"] == 10 and counts["country"] == 1
