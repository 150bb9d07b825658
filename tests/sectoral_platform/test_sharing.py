"""Consent-gated sharing across the real mediator: no consent, permit, withdrawal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.credentials import client_key, mediator_key
from services.kernel.testing import serve_on_loopback
from services.kernel.time import iso_millis_z, utcnow
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, FACILITIES, QUIET
from tests.sectoral_platform.tracker_helpers import IMMUNISATION, MEASLES, sync_import
from tests.sectoral_platform.wiring import ID_ADMIN, dpi

pytestmark = pytest.mark.anyio
EDUCATION = "DPI/GOV/MOE/emis"
SCHOOL_AGREEMENT = "c607571b-5479-5773-b552-f1aa8f80d7e1"
ORG = {"Authorization": "ApiKey dpi-consent-org-key"}
LK = "dpi-sandbox-misp-license-key"


def auth_body(person: dict[str, Any]) -> dict[str, Any]:
    identity = person["identity"]
    return {
        "id": "mosip.identity.auth", "version": "1.0", "requestTime": iso_millis_z(utcnow()),
        "transactionID": "1234567890", "individualId": person["UIN"], "individualIdType": "UIN",
        "consentObtained": True,
        "request": {"demographics": {"name": identity["fullName"], "dob": identity["dateOfBirth"]}},
    }  # fmt: skip


async def test_immunisation_status_needs_consent(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    with (
        serve_on_loopback(create_app(settings)) as platform_url,
        dpi(settings_for, monkeypatch, consent=True, platform_url=platform_url) as services,
    ):
        async with httpx.AsyncClient(base_url=services.id_registry, headers=ID_ADMIN) as ids:
            listing = (await ids.get("/v1/identities", params={"limit": 1})).json()
            person = (listing.get("identities", listing) if isinstance(listing, dict) else listing)[
                0
            ]
        async with httpx.AsyncClient(base_url=platform_url, auth=ADMIN) as platform:
            registration = {
                "individualId": person["UIN"],
                "demographics": auth_body(person)["request"]["demographics"],
                "orgUnit": FACILITIES[0],
                "enrolledAt": "2025-01-10",
            }
            created = await platform.post("/api/identity/registrations", json=registration)
            assert created.status_code == 201, created.text
            te = created.json()["trackedEntity"]
            enrollments = await platform.get(
                "/api/tracker/enrollments", params={"trackedEntity": te, "orgUnitMode": "ALL"}
            )
            enrollment = enrollments.json()["enrollments"][0]["enrollment"]
            dose = {"enrollment": enrollment, "programStage": IMMUNISATION, "status": "COMPLETED",
                    "orgUnit": FACILITIES[0], "occurredAt": "2025-10-01",
                    "dataValues": [{"dataElement": MEASLES, "value": "true"}]}  # fmt: skip
            await sync_import(platform, {"events": [dose]})
            direct = await platform.get("/api/immunisationStatus")
            assert direct.status_code == 401  # not callable around the mediator
            claimed = {"X-Road-Client": EDUCATION, "X-DPI-Subject": "any-token"}
            spoofed = await platform.get("/api/immunisationStatus", headers=claimed)
            assert spoofed.status_code == 401  # claiming a client is not being the mediator
        education = {"X-Road-Client": EDUCATION, "X-DPI-Client-Key": client_key(EDUCATION)}
        async with httpx.AsyncClient(base_url=services.interop_layer, headers=education) as edu:
            answer = await edu.post(
                f"/r1/DPI/GOV/NIA/id-registry/idauth/idauthentication/v1/auth/{LK}/moe-emis/"
                "moe-emis-sandbox-key",
                json=auth_body(person),
            )
            edu_token = answer.json()["response"]["authToken"]
            ask = {"X-DPI-Subject": edu_token, "X-DPI-Purpose": "school-enrolment"}
            path = "/r1/DPI/GOV/MOH/hmis/immunisation-status/immunisationStatus"
            denied = await edu.get(path, headers=ask)
            assert denied.status_code == 500, denied.text
            assert denied.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
            async with httpx.AsyncClient(base_url=services.id_registry) as ids:
                exchange = await ids.post(
                    "/v1/token-exchange",
                    headers={"X-DPI-Mediator-Key": mediator_key()},
                    json={"fromPartnerId": "moe-emis", "token": edu_token,
                          "toPartnerIds": ["dpa-consent"]},
                )  # fmt: skip
            consent_token = exchange.json()["tokens"]["dpa-consent"]
            assert services.consent is not None
            async with httpx.AsyncClient(base_url=services.consent, headers=ORG) as consent:
                await consent.post(
                    "/service/individual/", json={"individual": {"externalId": consent_token}}
                )
                person_headers = {"X-ConsentBB-IndividualId": consent_token}
                granted = await consent.post(
                    f"/service/individual/record/data-agreement/{SCHOOL_AGREEMENT}/",
                    headers=person_headers,
                )
                assert granted.status_code in (200, 201), granted.text
                record = granted.json()["consentRecord"]["id"]
                permitted = await edu.get(path, headers=ask)
                assert permitted.status_code == 200, permitted.text
                status = permitted.json()
                assert status["doses"] == {"BCG": 0, "Measles": 1}
                assert status["immunisations"] == [
                    {"vaccine": "Measles", "date": "2025-10-01", "orgUnit": FACILITIES[0]}
                ]
                assert edu_token not in permitted.text and person["UIN"] not in permitted.text
                withdrawn = await consent.put(
                    f"/service/individual/record/consent-record/{record}/",
                    headers=person_headers,
                    json={"consentRecord": {"optIn": False}},
                )
                assert withdrawn.status_code == 200, withdrawn.text
                after = await edu.get(path, headers=ask)
                assert after.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
