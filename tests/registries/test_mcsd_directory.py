"""mCSD beyond Location and Organization (ITI-90) and the update option's history (ITI-91),
over the generated national list; the test that changes the list runs last."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.endpoint import Endpoint
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.organizationaffiliation import OrganizationAffiliation
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhirclient import server as fhir_server  # type: ignore[import-untyped]
from fhirclient.models.healthcareservice import (  # type: ignore[import-untyped]
    HealthcareService as ClientService,
)
from fhirclient.models.practitionerrole import (  # type: ignore[import-untyped]
    PractitionerRole as ClientRole,
)

from services.kernel.testing import serve_in_process
from services.registries.facilities import directory
from services.registries.facilities.generator import generate, size_for
from services.registries.main import create_app
from services.registries.settings import RegistriesSettings

ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}
FACILITY = "XD-R03-D04-F001"  # a district hospital
MODELS: dict[str, Any] = {
    "HealthcareService": HealthcareService,
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
    "Endpoint": Endpoint,
    "OrganizationAffiliation": OrganizationAffiliation,
}


@pytest.fixture
async def national(national_settings: RegistriesSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(national_settings)) as client:
        yield client


async def bundle(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/fhir/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    Bundle.model_validate(body)
    return body


def ids(body: dict[str, Any], mode: str = "match") -> list[str]:
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in body.get("entry", [])
        if e.get("search", {}).get("mode", mode) == mode
    ]


def test_generation_is_deterministic_and_sized_per_facility():
    places = generate(size_for("pilot"))
    first, again = directory.generate(places, 2026), directory.generate(places, 2026)
    assert first == again and first != directory.generate(places, 7)
    for place in (p for p in places if p["level"] == "facility"):
        mine = [r for r in first if r["id"].startswith(place["id"] + "-")]
        kinds = [r["resource_type"] for r in mine]
        hospital = place["type_code"] == "hospital"
        assert kinds.count("HealthcareService") == (3 if hospital else 2)
        assert (
            kinds.count("Practitioner") == kinds.count("PractitionerRole") == (3 if hospital else 2)
        )
        assert kinds.count("Endpoint") == kinds.count("OrganizationAffiliation") == 1


@pytest.mark.anyio
async def test_every_type_reads_as_valid_r4_with_the_profiles_links(national):
    for kind, model in MODELS.items():
        found = await bundle(national, kind, _count=3)
        assert found["total"] > 0, kind
        for entry in found["entry"]:
            model.model_validate(entry["resource"])
    role = (await national.get(f"/fhir/PractitionerRole/{FACILITY}-PR1")).json()
    PractitionerRole.model_validate(role)
    assert role["organization"] == {"reference": f"Organization/{FACILITY}"}
    assert role["location"] == [{"reference": f"Location/{FACILITY}"}]
    assert role["practitioner"] == {"reference": f"Practitioner/{FACILITY}-P1"}
    assert role["code"][0]["coding"][0]["code"] == "doctor"
    for ref in (role["practitioner"], role["healthcareService"][0]):
        assert (await national.get(f"/fhir/{ref['reference']}")).status_code == 200
    affiliation = (await national.get(f"/fhir/OrganizationAffiliation/{FACILITY}-OA")).json()
    assert affiliation["organization"] == {"reference": "Organization/XD-R03-D04"}
    missing = await national.get("/fhir/Practitioner/nobody")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    capability = CapabilityStatement.model_validate((await national.get("/fhir/metadata")).json())
    assert capability.rest is not None
    served = {r.type: r for r in capability.rest[0].resource or []}
    assert set(served) == {"Location", "Organization", *MODELS}
    assert "PractitionerRole:location" in (served["Location"].searchRevInclude or [])


@pytest.mark.anyio
async def test_reference_token_and_summary_searches(national):
    services = await bundle(national, "HealthcareService", organization=f"Organization/{FACILITY}")
    assert services["total"] == 3
    by_location = await bundle(national, "HealthcareService", location=FACILITY)
    assert (
        ids(services)
        == ids(by_location)
        == [f"HealthcareService/{FACILITY}-HS{n}" for n in (1, 2, 3)]
    )
    lab = await bundle(
        national, "HealthcareService", **{"service-type": "general-outpatient", "_summary": "count"}
    )
    assert lab["total"] == 10_000 and "entry" not in lab
    assert (await bundle(national, "HealthcareService", active="false"))["total"] == 0
    roles = await bundle(national, "PractitionerRole", location=f"Location/{FACILITY}")
    assert ids(roles) == [f"PractitionerRole/{FACILITY}-PR{n}" for n in (1, 2, 3)]
    doctors = await bundle(national, "PractitionerRole", role="doctor", _summary="count")
    assert doctors["total"] == 100  # one per district hospital
    located = await bundle(national, "Location", organization=f"Organization/{FACILITY}")
    assert ids(located) == [f"Location/{FACILITY}"]
    assert (await bundle(national, "Organization", active="true", _summary="count"))[
        "total"
    ] == 10_111
    members = await bundle(
        national, "OrganizationAffiliation", **{"primary-organization": "XD-R03-D04"}
    )
    assert members["total"] == 100


@pytest.mark.anyio
async def test_include_and_revinclude_follow_the_links(national):
    with_people = await bundle(
        national,
        "PractitionerRole",
        location=FACILITY,
        _include=["PractitionerRole:practitioner", "PractitionerRole:organization"],
    )
    assert with_people["total"] == 3 and len(ids(with_people)) == 3
    assert sorted(ids(with_people, "include")) == [
        f"Organization/{FACILITY}",
        *(f"Practitioner/{FACILITY}-P{n}" for n in (1, 2, 3)),
    ]
    around = await bundle(
        national,
        "Location",
        _id=FACILITY,
        _revinclude=["PractitionerRole:location", "HealthcareService:location"],
        _include="Location:organization",
    )
    assert ids(around) == [f"Location/{FACILITY}"]
    included = ids(around, "include")
    assert len(included) == 7 and f"Organization/{FACILITY}" in included
    reached = await bundle(
        national, "Organization", _id=FACILITY, _revinclude="Endpoint:organization"
    )
    endpoint = [e["resource"] for e in reached["entry"] if e["search"]["mode"] == "include"]
    assert [Endpoint.model_validate(e).id for e in endpoint] == [f"{FACILITY}-EP"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("HealthcareService", {"colour": "red"}, "colour"),
        ("HealthcareService", {"partof": "XD"}, "partof"),
        ("Location", {"_include": "Location:bogus"}, "Location:bogus"),
        ("Organization", {"_include": "Location:partof"}, "Location:partof"),
        ("Organization", {"_revinclude": "PractitionerRole:location"}, "PractitionerRole:location"),
        ("PractitionerRole", {"organization": "Location/XD"}, "organization"),
        ("HealthcareService", {"active": "maybe"}, "active"),
        ("Location", {"_summary": "true"}, "_summary"),
        ("Endpoint", {"status": "error"}, "status"),
        ("Practitioner", {"_sort": "name"}, "_sort"),
        ("Location/_history", {"_at": "2026"}, "_at"),
        ("Location/_history", {"_since": "yesterday"}, "_since"),
        ("Location/_history", {"_since": "2026-01-01"}, "_since"),
        ("Location/_history", {"_since": "2026-01-01T10:00:00"}, "_since"),
        ("HealthcareService/_history", {"_count": "0"}, "_count"),
    ],
)
async def test_bad_search_is_400_naming_the_parameter(national, path, params, named):
    response = await national.get(f"/fhir/{path}", params=params)
    assert response.status_code == 400, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert named in outcome["issue"][0]["diagnostics"]


@pytest.mark.anyio
async def test_xml_is_refused_in_xml(national):
    for headers, params in (
        ({"Accept": "application/fhir+xml"}, {}),
        ({"Accept": "application/xml, text/html"}, {}),
        ({}, {"_format": "xml"}),
    ):
        response = await national.get("/fhir/Location", params=params, headers=headers)
        assert response.status_code == 406
        assert response.headers["content-type"].startswith("application/fhir+xml")
        root = ElementTree.fromstring(response.content)
        assert root.tag == "{http://hl7.org/fhir}OperationOutcome"
        assert root.find("{*}issue/{*}code").get("value") == "not-supported"  # type: ignore[union-attr]
    unknown = await national.get("/fhir/Patient", headers={"Accept": "application/fhir+xml"})
    assert unknown.status_code == 404 and unknown.content.startswith(b"<?xml")
    either = {"Accept": "application/fhir+xml, application/fhir+json;q=0.8"}
    assert (await national.get(f"/fhir/Location/{FACILITY}", headers=either)).status_code == 200
    assert (await national.get("/fhir/metadata", params={"_format": "json"})).status_code == 200
    assert (await national.get("/fhir/metadata", params={"_format": "yaml"})).status_code == 400


def test_fhirclient_searches_services_and_roles(live_base):
    client = fhir_server.FHIRServer(None, base_uri=live_base)
    search = ClientService.where(struct={"organization": f"Organization/{FACILITY}"})
    services = list(search.perform_resources_iter(client))
    assert len(services) == 3 and all(isinstance(s, ClientService) for s in services)
    assert {s.providedBy.reference for s in services} == {f"Organization/{FACILITY}"}
    roles = ClientRole.where(struct={"role": "doctor", "_count": "30"})
    doctors = list(roles.perform_resources_iter(client))
    assert len(doctors) == 100 and {r.code[0].coding[0].code for r in doctors} == {"doctor"}


def _after(stamp: str) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(microseconds=1)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


async def _history(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    response = await client.get(f"/fhir/{path}/_history", params=params)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        Bundle.model_validate(page)
        assert page["type"] == "history"
        entries.extend(page.get("entry", []))
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            return entries
        response = await client.get(nxt[0])


@pytest.mark.anyio
async def test_history_since_returns_exactly_the_changes_newest_first(national):
    """Runs last in the module: it changes the list."""
    newest = (await national.get("/fhir/Location/_history", params={"_count": 1})).json()
    assert [link["relation"] for link in newest["link"]] == ["self", "next"]
    since = _after(newest["entry"][0]["resource"]["meta"]["lastUpdated"])
    assert await _history(national, "Location", _since=since) == []

    added = await national.post(
        "/admin/facilities", headers=ADMIN, json={"name": "Upendo Clinic", "district": "XD-R01-D01"}
    )
    new_id = added.json()["id"]
    for body in ({"name": "First Name"}, {"name": "Second Name"}, {"status": "inactive"}):
        changed = await national.patch(
            "/admin/facilities/XD-R02-D02-F002", headers=ADMIN, json=body
        )
        assert changed.status_code == 200
    moved = await national.patch(
        "/admin/facilities/XD-R02-D02-F003", headers=ADMIN, json={"district": "XD-R02-D03"}
    )
    assert moved.status_code == 200

    entries = await _history(national, "Location", _since=since, _count=2)
    seen = [(e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in entries]
    assert seen == [
        ("XD-R02-D02-F003", "2"),
        ("XD-R02-D02-F002", "4"),
        ("XD-R02-D02-F002", "3"),
        ("XD-R02-D02-F002", "2"),
        (new_id, "1"),
    ]
    names = [e["resource"]["name"] for e in entries[1:4]]
    assert names == ["Second Name", "Second Name", "First Name"]
    assert entries[1]["resource"]["status"] == "inactive"
    assert entries[0]["request"] == {"method": "PUT", "url": "Location/XD-R02-D02-F003"}
    assert entries[-1]["request"] == {"method": "POST", "url": "Location"}
    assert entries[-1]["response"]["status"] == "201 Created"
    assert entries[0]["resource"]["partOf"] == {"reference": "Location/XD-R02-D03"}
    orgs = await _history(national, "Organization", _since=since)
    assert [(e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in orgs] == seen
    assert orgs[1]["resource"]["active"] is False
    assert await _history(national, "HealthcareService", _since=since) == []
    latest = entries[0]["resource"]["meta"]["lastUpdated"]
    assert len(await _history(national, "Location", _since=latest)) == 1
    assert await _history(national, "Location", _since=_after(latest)) == []
