"""Metaservices exactly as the contract shows them, and the default catalogue as seeded."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from services.interop_layer.main import create_app
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import client_key
from services.kernel.testing import serve_in_process
from services.kernel.topology import load_topology
from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, NIA, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio
XRD, IDS = "http://x-road.eu/xsd/xroad.xsd", "http://x-road.eu/xsd/identifiers"
TAGS = ("xRoadInstance", "memberClass", "memberCode", "subsystemCode")


async def test_list_clients(shared_mediator):
    _, client = shared_mediator
    response = await client.get("/listClients", headers={"Accept": "application/json"})
    assert response.status_code == 200
    members = response.json()["member"]
    subsystems = {
        "/".join(
            m["id"][k] for k in ("xroad_instance", "member_class", "member_code", "subsystem_code")
        ): m
        for m in members
        if m["id"]["object_type"] == "SUBSYSTEM"
    }
    assert set(subsystems) == set(load_topology().subsystems())
    assert subsystems[HEALTH]["id"] == {
        "xroad_instance": "DPI",
        "member_class": "GOV",
        "member_code": "MOH",
        "subsystem_code": "hmis",
        "object_type": "SUBSYSTEM",
    }
    assert subsystems[HEALTH]["name"] == "Sectoral platform (health)"
    assert any(m["id"]["object_type"] == "MEMBER" for m in members)
    other = await client.get("/listClients?xRoadInstance=OTHER")
    assert other.json() == {"member": []}


async def test_list_and_allowed_methods(shared_mediator):
    _, client = shared_mediator
    listed = await client.get(f"/r1/{REGISTRIES}/listMethods", headers=client_headers(EDUCATION))
    assert listed.status_code == 200
    services = {s["service_code"]: s for s in listed.json()["service"]}
    assert set(services) == {"echo", "raw", "down"}
    assert services["echo"] == {
        "xroad_instance": "DPI",
        "member_class": "GOV",
        "member_code": "CRVS",
        "subsystem_code": "registries",
        "service_code": "echo",
        "service_type": "OPENAPI",
        "object_type": "SERVICE",
        "endpoint_list": [{"method": "*", "path": "/*"}],
    }
    allowed = await client.get(
        f"/r1/{REGISTRIES}/allowedMethods", headers=client_headers(EDUCATION)
    )
    only = allowed.json()["service"]
    assert [s["service_code"] for s in only] == ["echo"]
    assert only[0]["endpoint_list"] == [{"method": "GET", "path": "/public/*"}]
    health = await client.get(f"/r1/{REGISTRIES}/allowedMethods", headers=client_headers(HEALTH))
    assert {s["service_code"] for s in health.json()["service"]} == {"echo", "raw", "down"}
    one = await client.get(
        f"/r1/{REGISTRIES}/listMethods?serviceId=raw", headers=client_headers(HEALTH)
    )
    assert [s["service_code"] for s in one.json()["service"]] == ["raw"]
    anonymous = await client.get(f"/r1/{REGISTRIES}/listMethods")
    assert anonymous.status_code == 400 and anonymous.headers["x-road-error"]


async def test_get_openapi(shared_mediator):
    _, client = shared_mediator
    url = f"/r1/{REGISTRIES}/getOpenAPI"
    response = await client.get(f"{url}?serviceCode=echo", headers=client_headers(HEALTH))
    assert response.status_code == 200
    echo = response.json()
    assert echo["info"]["title"] == "echo"
    assert echo["servers"] == [{"url": f"/r1/{REGISTRIES}/echo"}]
    # the provider's paths under the service's prefix, relative to it; `/other` is not echo's
    assert set(echo["paths"]) == {"/people/status", "/people/{id}"}
    assert set(echo["paths"]["/people/{id}"]) == {"get", "delete", "summary"}
    one = await client.get(
        f"/r1/{HEALTH}/getOpenAPI?serviceCode=immunisation-status", headers=client_headers(HEALTH)
    )
    assert one.status_code == 200 and one.json()["paths"] == {
        "/people/status": {"get": {"responses": {"200": {"description": "ok"}}}}
    }
    missing = await client.get(url, headers=client_headers(HEALTH))
    assert missing.status_code == 400 and missing.json()["type"] == "Client.BadRequest"
    unknown = await client.get(f"{url}?serviceCode=nope", headers=client_headers(HEALTH))
    assert unknown.status_code == 500
    assert unknown.headers["x-road-error"] == "Server.ServerProxy.UnknownService"
    no_doc = await client.get(f"{url}?serviceCode=raw", headers=client_headers(HEALTH))
    assert no_doc.json()["type"] == "Server.ServerProxy.UnknownService"


async def test_list_clients_as_xml(shared_mediator):
    _, client = shared_mediator
    response = await client.get("/listClients", headers={"Accept": "text/xml, application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{{{XRD}}}clientList"
    subsystems = {}
    for member in root.findall(f"{{{XRD}}}member"):
        ident = member.find(f"{{{XRD}}}id")
        assert ident is not None
        parts = [ident.findtext(f"{{{IDS}}}{tag}") for tag in TAGS]
        if ident.get(f"{{{IDS}}}objectType") == "SUBSYSTEM":
            subsystems["/".join(p or "" for p in parts)] = member.findtext(f"{{{XRD}}}name")
    assert subsystems[HEALTH] == "Sectoral platform (health)"
    assert set(subsystems) == set(load_topology().subsystems())
    json_first = await client.get("/listClients", headers={"Accept": "application/json, text/xml"})
    assert json_first.json()["member"]
    default = await client.get("/listClients")
    assert default.headers["content-type"].startswith("application/json")


async def test_default_catalogue_is_seeded_once(settings_for, monkeypatch):
    monkeypatch.setenv("DPI_REGISTRIES_URL", "http://127.0.0.1:18004")
    settings = settings_for("interop_layer", cls=InteropSettings)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        services = (await client.get("/admin/services", headers=ADMIN)).json()
        by_id = {s["id"]: s for s in services}
        assert by_id[f"{REGISTRIES}/fhir"]["resolvedUrl"] == "http://127.0.0.1:18004/fhir"
        assert by_id[f"{NIA}/idauth"]["upstream"] == "id_registry"
        immunisation = by_id[f"{HEALTH}/immunisation-status"]
        assert immunisation["consentRequired"] is True
        assert immunisation["dataCategories"] == ["immunisation-status"]
        assert {f"{HEALTH}/dhis2", "DPI/GOV/DPA/consent/consent", f"{REGISTRIES}/data"} <= set(
            by_id
        )
        rights = (await client.get("/admin/rights", headers=ADMIN)).json()
        pairs = {(r["client"], r["provider"], r["serviceCode"]) for r in rights}
        assert (HEALTH, NIA, "idauth") in pairs
        assert (HEALTH, REGISTRIES, "fhir") in pairs
        assert (EDUCATION, HEALTH, "immunisation-status") in pairs
        assert ("DPI/GOV/MSP/spmis", HEALTH, "immunisation-status") in pairs
        assert (REGISTRIES, REGISTRIES, "pub") in pairs and (NIA, NIA, "pub") in pairs
        revoked = next(r for r in rights if r["serviceCode"] == "fhir")
        gone = await client.delete(f"/admin/rights/{revoked['id']}", headers=ADMIN)
        assert gone.status_code == 204
    async with serve_in_process(create_app(settings)) as client:
        rights = (await client.get("/admin/rights", headers=ADMIN)).json()
        assert revoked["id"] not in {r["id"] for r in rights}  # seeds do not come back
        types = await client.get(f"/r1/{NIA}/api/v1/eventType", headers=client_headers(NIA))
        assert types.json() == ["identity-created", "identity-deactivated"]


async def test_govstack_directory_variant(shared_mediator):
    _, client = shared_mediator
    clients = await client.get("/listClients?instanceId=DPI")
    entries = clients.json()["member"]
    health = next(m for m in entries if m["id"].get("applicationCode") == "hmis")
    assert health["id"] == {
        "instanceId": "DPI",
        "memberClass": "GOV",
        "memberCode": "MOH",
        "applicationCode": "hmis",
        "objectType": "APPLICATION",
    }
    assert any(m["id"]["objectType"] == "MEMBER" for m in entries)
    headers = {"X-GovStack-Client": EDUCATION, "X-DPI-Client-Key": client_key(EDUCATION)}
    allowed = await client.get(f"/r1/{REGISTRIES}/allowedMethods", headers=headers)
    assert allowed.json() == {
        "member": [
            {
                "objectType": "SERVICE",
                "serviceType": "OPENAPI",
                "instanceId": "DPI",
                "memberClass": "GOV",
                "memberCode": "CRVS",
                "applicationCode": "registries",
                "serviceCode": "echo",
                "endpointList": {"member": [{"method": "GET", "path": "/public/*"}]},
            }
        ]
    }
