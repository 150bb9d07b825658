"""A sector system verifies a person with the national ID system, through the mediator."""

from __future__ import annotations

from datetime import UTC, datetime

MISP = "dpi-sandbox-misp-license-key"


def test_demographic_authentication_gives_a_sector_token(dpi_sandbox) -> None:
    person = dpi_sandbox.people.any()
    name = person.attribute("fullName")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    school = dpi_sandbox.mediator("DPI/GOV/MOE/emis")
    key = dpi_sandbox.env.partner_keys["DPI/GOV/MOE/emis"]
    response = school.post(
        f"/r1/DPI/GOV/NIA/id-registry/idauth/idauthentication/v1/auth/{MISP}/moe-emis/{key}",
        json={
            "id": "mosip.identity.auth",
            "version": "1.0",
            "requestTime": now,
            "transactionID": "example-adapter-1",
            "individualId": person.uin,
            "individualIdType": "UIN",
            "consentObtained": True,
            "request": {
                "timestamp": now,
                "demographics": {"name": [{"language": "eng", "value": name}]},
            },
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["response"]["authStatus"] is True, response.text
    assert person.uin not in response.json()["response"]["authToken"]


def test_facilities_through_the_mediator(dpi_sandbox) -> None:
    health = dpi_sandbox.mediator("DPI/GOV/MOH/hmis")
    bundle = health.get("/r1/DPI/GOV/CRVS/registries/fhir/Location", params={"_count": 5})
    assert bundle.status_code == 200, bundle.text
    assert bundle.json()["resourceType"] == "Bundle" and bundle.json()["entry"]
