"""Signed receipts (grant, withdrawal), their verification and tampering; FHIR R4 export."""

import base64
import json

import pytest
from fhir.resources.R4B.consent import Consent as FhirConsent
from joserfc import jws
from joserfc.jwk import KeySet

from tests.consent.conftest import ORG

pytestmark = pytest.mark.anyio


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_grant_and_withdrawal_receipts_verify(consent):
    await consent.individual("tok-receipt")
    record_id = (await consent.consent("tok-receipt"))["consentRecord"]["id"]
    await consent.update("tok-receipt", record_id, optIn=False)

    listed = await consent.client.get(f"/v1/consent-records/{record_id}/receipts", headers=ORG)
    receipts = listed.json()["receipts"]
    assert [r["kind"] for r in receipts] == ["grant", "withdrawal"]
    grant = receipts[0]["receipt"]
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "piiPrincipalId",
        "piiControllers",
        "policyUrl",
        "services",
    ):
        assert field in grant, field
    purpose = grant["services"][0]["purposes"][0]
    assert purpose["piiCategory"] == ["immunisation-status"]
    assert {"purpose", "purposeCategory", "consentType", "termination", "thirdPartyDisclosure"} <= (
        set(purpose)
    )
    assert grant["piiPrincipalId"] == "tok-receipt"
    assert receipts[1]["receipt"]["consentStatus"] == "withdrawn"

    for receipt in receipts:
        verified = await consent.client.post("/v1/receipts/verify", json={"jws": receipt["jws"]})
        assert verified.status_code == 200
        assert verified.json()["valid"] is True
        assert verified.json()["receipt"] == receipt["receipt"]

    keys = KeySet.import_key_set((await consent.client.get("/.well-known/jwks.json")).json())
    independent = jws.deserialize_compact(receipts[0]["jws"], keys, algorithms=["ES256"])
    assert json.loads(independent.payload)["consentReceiptID"] == receipts[0]["consentReceiptID"]

    one = await consent.client.get(f"/v1/receipts/{receipts[0]['consentReceiptID']}", headers=ORG)
    assert one.json()["jws"] == receipts[0]["jws"]


async def test_tampered_receipt_fails(consent):
    await consent.individual("tok-tamper")
    record_id = (await consent.consent("tok-tamper"))["consentRecord"]["id"]
    receipt = (
        await consent.client.get(f"/v1/consent-records/{record_id}/receipts", headers=ORG)
    ).json()["receipts"][0]
    header, _, signature = receipt["jws"].split(".")
    forged = dict(receipt["receipt"], piiPrincipalId="someone-else")
    tampered = f"{header}.{b64(json.dumps(forged).encode())}.{signature}"
    result = (await consent.client.post("/v1/receipts/verify", json={"jws": tampered})).json()
    assert result["valid"] is False and result["reason"]
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    result = (
        await consent.client.post("/v1/receipts/verify", json={"jws": f"{header}.x.{flipped}"})
    ).json()
    assert result["valid"] is False
    garbage = (await consent.client.post("/v1/receipts/verify", json={"jws": "nonsense"})).json()
    assert garbage["valid"] is False
    empty = await consent.client.post("/v1/receipts/verify", json={"jws": ""})
    assert empty.status_code == 400


async def test_fhir_consent_export_validates(consent):
    await consent.individual("tok-fhir")
    record_id = (await consent.consent("tok-fhir"))["consentRecord"]["id"]
    response = await consent.client.get(f"/fhir/Consent/{record_id}", headers=ORG)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    resource = FhirConsent.model_validate(body)  # raises unless valid FHIR R4(B) Consent
    assert resource.status == "active"
    assert resource.model_dump(mode="json")["provision"]["type"] == "permit"
    assert body["scope"]["coding"][0]["code"] == "patient-privacy"
    assert body["provision"]["purpose"][0]["code"] == "school-enrolment"
    assert body["patient"]["identifier"]["value"] == "tok-fhir"
    actors = {
        a["role"]["coding"][0]["code"]: a["reference"]["identifier"]["value"]
        for a in body["provision"]["actor"]
    }
    assert actors == {"IRCP": "DPI/GOV/MOE/emis", "CST": "DPI/GOV/MOH/hmis"}
    assert body["provision"]["code"][0]["coding"][0]["code"] == "immunisation-status"

    await consent.update("tok-fhir", record_id, optIn=False)
    after = (await consent.client.get(f"/fhir/Consent/{record_id}", headers=ORG)).json()
    assert FhirConsent.model_validate(after).status == "inactive"
    assert after["provision"]["type"] == "deny"

    missing = await consent.client.get(
        "/fhir/Consent/00000000-0000-4000-8000-000000000000", headers=ORG
    )
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"  # FHIR's shape on FHIR routes
    assert missing.json()["issue"][0]["code"] == "not-found"


async def test_fhir_consent_read_names_what_it_does_not_implement(consent):
    await consent.individual("tok-fhir-params")
    record_id = (await consent.consent("tok-fhir-params"))["consentRecord"]["id"]
    url = f"/fhir/Consent/{record_id}"
    for name in ("_summary", "_elements"):
        refused = await consent.client.get(url, params={name: "true"}, headers=ORG)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/fhir+json")
        outcome = refused.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert name in outcome["issue"][0]["diagnostics"]
    xml = await consent.client.get(url, params={"_format": "xml"}, headers=ORG)
    assert xml.status_code == 406 and xml.headers["content-type"].startswith("application/fhir+xml")
    pretty = await consent.client.get(url, params={"_pretty": "true"}, headers=ORG)
    assert pretty.status_code == 200
    unauthenticated = await consent.client.get(url)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["resourceType"] == "OperationOutcome"
    elsewhere = await consent.client.get("/v1/consent-records/nope", headers=ORG)
    assert elsewhere.status_code in (400, 404) and "resourceType" not in elsewhere.json()
