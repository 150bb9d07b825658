"""Right to be forgotten: personal data goes, a non-personal audit trail stays."""

import pytest
from sqlmodel import select

from services.consent.decisions.models import Decision
from services.consent.receipts.models import Receipt
from services.consent.revisions.models import Revision
from services.consent.webhooks.models import WebhookDelivery
from services.kernel.runtime import kernel_state
from tests.consent.conftest import ORG, RECORD

pytestmark = pytest.mark.anyio


async def test_forget_removes_personal_data_and_keeps_the_trail(consent):
    hook = {"webhook": {"payloadUrl": "http://127.0.0.1:9/hook", "secretKey": "0123456789"}}
    assert (await consent.client.post("/config/webhook/", json=hook, headers=ORG)).is_success
    individual = await consent.individual("tok-forget")
    await consent.individual("tok-stays")
    record_id = (await consent.consent("tok-forget"))["consentRecord"]["id"]
    await consent.consent("tok-stays")
    decision_id = (await consent.decide("tok-forget"))["decisionId"]
    await consent.update("tok-forget", record_id, optIn=False)

    response = await consent.client.delete(
        f"{RECORD}/", headers={**ORG, "X-ConsentBB-IndividualId": "tok-forget"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["deletedConsentRecords"] == [record_id]
    assert result["individualDeleted"] is True and result["decisionsUnlinked"] == 1

    gone = await consent.client.get(f"/audit/consent-record/{record_id}/", headers=ORG)
    assert gone.status_code == 404
    person = await consent.client.get(f"/config/individual/{individual['id']}/", headers=ORG)
    assert person.status_code == 404
    fhir = await consent.client.get(f"/fhir/Consent/{record_id}", headers=ORG)
    assert fhir.status_code == 404

    trail = await consent.client.get(f"/v1/decisions/{decision_id}", headers=ORG)
    assert trail.status_code == 200
    assert trail.json()["decision"] == "permit" and trail.json()["subjectLinked"] is False
    chain = (await consent.client.get(f"/v1/revisions/{record_id}", headers=ORG)).json()
    assert len(chain["revisions"]) == 2 and chain["chainValid"] is True
    assert all(r["authorizedByIndividual"] is None for r in chain["revisions"])

    with kernel_state(consent.app).database.session() as session:
        dump = " ".join(
            str(row)
            for model in (Revision, Receipt, Decision, WebhookDelivery)
            for row in session.exec(select(model)).all()
        )
    assert "tok-forget" not in dump and individual["id"] not in dump
    assert "tok-stays" in dump  # the other person's records are untouched

    assert (await consent.decide("tok-forget"))["reasonCode"] == "no-consent-record"
    assert (await consent.decide("tok-stays"))["decision"] == "permit"


async def test_non_forgettable_records_are_retained(consent):
    policy_id = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0][
        "id"
    ]
    agreement = {
        "dataAgreement": {
            "version": "1",
            "policy": policy_id,
            "purpose": "Legal retention",
            "purposeCode": "legal-retention",
            "lawfulBasis": "legal_obligation",
            "dpia": "x",
            "forgettable": False,
            "dataConsumer": "DPI/GOV/MSP/spmis",
            "dataProvider": "DPI/GOV/MOH/hmis",
            "dataAttributes": [{"name": "n", "sensitivity": "low", "category": "births"}],
        }
    }
    agreement_id = (
        await consent.client.post("/config/data-agreement/", json=agreement, headers=ORG)
    ).json()["dataAgreement"]["id"]
    await consent.individual("tok-keep")
    kept = (await consent.consent("tok-keep", agreement=agreement_id))["consentRecord"]["id"]
    erased = (await consent.consent("tok-keep"))["consentRecord"]["id"]
    result = (
        await consent.client.delete(
            f"{RECORD}/", headers={**ORG, "X-ConsentBB-IndividualId": "tok-keep"}
        )
    ).json()
    assert result["deletedConsentRecords"] == [erased]
    assert result["retainedConsentRecords"] == [kept]
    assert result["individualDeleted"] is False
    unknown = await consent.client.delete(
        f"{RECORD}/", headers={**ORG, "X-ConsentBB-IndividualId": "tok-never"}
    )
    assert unknown.status_code == 404
