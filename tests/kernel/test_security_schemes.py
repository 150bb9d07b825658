"""Security schemes in the OpenAPI documents: each operation names the credential it takes, the
headers a scheme covers are not listed twice, and the five services declare their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header

from services.kernel import openapi
from services.kernel.credentials import AdminDep, MediatorDep
from services.kernel.security import Security, header_key, http, one
from tests.security.contracts_services import SERVICES

ADMIN: list[dict[str, list[str]]] = [{"adminKey": []}, {"adminBearer": []}]


def partner_check(x_partner: str | None = Header(default=None)) -> None:
    """A service's own credential check, read from a header."""


def make_app() -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/v1")

    @router.get("/open")
    def open_() -> dict[str, str]:
        return {}

    @router.get("/admin")
    def admin(_: AdminDep, trace: str | None = Header(default=None)) -> dict[str, str]:
        return {}

    @router.post("/both")
    def both(_: AdminDep, __: MediatorDep) -> dict[str, str]:
        return {}

    @router.get("/partner", dependencies=[Depends(partner_check)])
    def partner() -> dict[str, str]:
        return {}

    @router.get("/by-hand")
    def by_hand() -> dict[str, str]:
        return {}

    app.include_router(router)
    security = Security(
        schemes={
            "partnerKey": header_key("X-Partner", "A partner's key."),
            "token": http("bearer", "A token."),
        },
        by_dependency={partner_check: (one("partnerKey"),)},
        by_path={"GET /v1/by-hand": (one("token"),)},
    )
    openapi.install(app, security=security)
    return app


def test_operations_name_the_credentials_their_checks_take():
    document = make_app().openapi()
    paths = document["paths"]
    assert "security" not in paths["/v1/open"]["get"]
    assert paths["/v1/admin"]["get"]["security"] == ADMIN
    # two checks in a row: each alternative of the one with each of the other
    assert paths["/v1/both"]["post"]["security"] == [
        {"adminKey": [], "mediatorKey": []},
        {"adminBearer": [], "mediatorKey": []},
    ]
    assert paths["/v1/partner"]["get"]["security"] == [{"partnerKey": []}]
    assert paths["/v1/by-hand"]["get"]["security"] == [{"token": []}]
    assert set(document["components"]["securitySchemes"]) == {
        "adminKey",
        "adminBearer",
        "mediatorKey",
        "partnerKey",
        "token",
    }
    assert document["components"]["securitySchemes"]["adminKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-DPI-Admin-Key",
        "description": "The sandbox admin key (`DPI_ADMIN_KEY`; `dpi-admin` by default).",
    }


def test_headers_a_scheme_covers_are_not_also_plain_parameters():
    paths = make_app().openapi()["paths"]
    admin = [p["name"] for p in paths["/v1/admin"]["get"]["parameters"]]
    assert admin == ["trace"]  # X-DPI-Admin-Key and Authorization are the schemes'
    assert "parameters" not in paths["/v1/partner"]["get"]
    assert "parameters" not in paths["/v1/both"]["post"]


def security_of(document: dict[str, Any], method: str, path: str) -> Any:
    return document["paths"][path][method].get("security")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    built = {}
    for name, wiring in SERVICES.items():
        folder: Path = tmp_path_factory.mktemp(name)
        built[name] = wiring.build(f"sqlite:///{folder}/unused.db", folder).openapi()
    return built


def test_the_dhis2_api_takes_basic_or_a_personal_access_token(documents):
    document = documents["sectoral_platform"]
    dhis2: list[dict[str, list[str]]] = [{"dhis2Basic": []}, {"dhis2PersonalAccessToken": []}]
    assert security_of(document, "get", "/api/me") == dhis2
    assert security_of(document, "post", "/api/dataValueSets") == dhis2
    assert security_of(document, "get", "/api/immunisationStatus") == [{"mediatorKey": []}]
    assert security_of(document, "post", "/admin/reset") == ADMIN
    assert security_of(document, "get", "/api/system/ping") is None
    schemes = document["components"]["securitySchemes"]
    assert schemes["dhis2Basic"]["scheme"] == "basic"
    assert schemes["dhis2PersonalAccessToken"]["name"] == "Authorization"


def test_the_mediator_takes_the_client_header_and_its_key_together(documents):
    document = documents["interop_layer"]
    provider = "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}"
    client: list[dict[str, list[str]]] = [{"xRoadClient": [], "clientKey": []}]
    assert security_of(document, "get", f"{provider}/listMethods") == client
    assert security_of(document, "post", f"{provider}/pub/v1/{{event_type}}") == client
    assert security_of(document, "get", "/admin/messagelog/records") == ADMIN
    assert security_of(document, "get", "/listClients") is None
    schemes = document["components"]["securitySchemes"]
    assert (schemes["xRoadClient"]["name"], schemes["clientKey"]["name"]) == (
        "X-Road-Client",
        "X-DPI-Client-Key",
    )


def test_consent_registries_and_the_id_system_declare_theirs(documents):
    consent = documents["consent"]
    assert security_of(consent, "post", "/v1/decisions") == [{"mediatorKey": []}]
    assert security_of(consent, "get", "/config/policies/") == [{"organisationApiKey": []}]
    assert security_of(consent, "post", "/v1/receipts/verify") is None
    assert "parameters" not in consent["paths"]["/v1/decisions"]["post"]

    registries = documents["registries"]
    data = registries["paths"]["/data/{registryName}/{versionNumber}/read"]["post"]
    assert data["security"] == [{"dataApiKey": []}]
    headers = {p["name"] for p in data["parameters"] if p["in"] == "header"}
    assert "authorization" not in headers and "information-mediator-client" in headers
    assert security_of(registries, "get", "/fhir/Location") is None

    ids = documents["id_registry"]
    assert security_of(ids, "get", "/oidc/userinfo") == [{"oidcAccessToken": []}]
    assert security_of(ids, "post", "/v1/token-exchange") == [{"mediatorKey": []}]
    assert security_of(ids, "get", "/v1/identities") == ADMIN
    ida = "/idauthentication/v1/auth/{misp_license_key}/{partner_id}/{api_key}"
    assert security_of(ids, "post", ida) is None  # MOSIP's keys travel in the path
