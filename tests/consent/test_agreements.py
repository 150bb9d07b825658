"""Policies and data agreements: CRUD, revisions and their hash chain, seed data."""

from typing import Any

import pytest
from sqlalchemy import update

from services.consent.revisions.models import Revision
from services.kernel.runtime import kernel_state
from tests.consent.conftest import CASH_TRANSFER_ID, ORG, RECORD, SCHOOL_ENROLMENT_ID

pytestmark = pytest.mark.anyio


def agreement_body(policy_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "dataAgreement": {
            "version": "1.0.0",
            "policy": policy_id,
            "purpose": "Exam results for scholarship means test",
            "purposeCode": "scholarship",
            "lawfulBasis": "consent",
            "dpia": "none",
            "dataConsumer": "DPI/GOV/MSP/spmis",
            "dataProvider": "DPI/GOV/MOE/emis",
            "dataAttributes": [
                {"name": "Exam results", "sensitivity": "low", "category": "exam-results"}
            ],
            **overrides,
        }
    }


async def test_seeded_agreements(consent):
    listed = await consent.client.get("/config/data-agreements/", headers=ORG)
    agreements = {a["id"]: a for a in listed.json()["dataAgreement"]}
    school, cash = agreements[SCHOOL_ENROLMENT_ID], agreements[CASH_TRANSFER_ID]
    assert (school["purposeCode"], school["dataConsumer"], school["dataProvider"]) == (
        "school-enrolment",
        "DPI/GOV/MOE/emis",
        "DPI/GOV/MOH/hmis",
    )
    assert school["dataCategories"] == ["immunisation-status"]
    assert (cash["purposeCode"], cash["dataConsumer"]) == ("cash-transfer", "DPI/GOV/MSP/spmis")
    assert cash["dataCategories"] == ["pregnancy-status"]
    assert school["policy"]["url"].startswith("https://")
    for agreement in (school, cash):
        assert agreement["lawfulBasis"] == "consent" and agreement["forgettable"] is True


async def test_revision_hash_chain_and_tamper_detection(consent):
    policy = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0]
    created = await consent.client.post(
        "/config/data-agreement/", json=agreement_body(policy["id"]), headers=ORG
    )
    assert created.status_code == 200, created.text
    agreement_id = created.json()["dataAgreement"]["id"]
    first = created.json()["revision"]
    assert "predecessorHash" not in first and first["schemaName"] == "dataagreement"

    second = await consent.client.put(
        f"/config/data-agreement/{agreement_id}/",
        json=agreement_body(policy["id"], version="1.1.0"),
        headers=ORG,
    )
    third = await consent.client.put(
        f"/config/data-agreement/{agreement_id}/",
        json=agreement_body(policy["id"], version="1.2.0"),
        headers=ORG,
    )
    revisions = [first, second.json()["revision"], third.json()["revision"]]
    assert revisions[1]["predecessorHash"] == revisions[0]["serializedHash"]
    assert revisions[2]["predecessorHash"] == revisions[1]["serializedHash"]
    assert len({r["serializedHash"] for r in revisions}) == 3

    chain = await consent.client.get(f"/v1/revisions/{agreement_id}", headers=ORG)
    assert chain.json()["chainValid"] is True
    assert [r["id"] for r in chain.json()["revisions"]] == [r["id"] for r in revisions]
    assert chain.json()["revisions"][0]["successor"]["id"] == revisions[1]["id"]

    with kernel_state(consent.app).database.session() as session:  # someone edits history in place
        tampered = revisions[1]["serializedSnapshot"].replace("1.1.0", "9.9.9")
        session.execute(
            update(Revision)
            .where(Revision.id == revisions[1]["id"])
            .values(serialized_snapshot=tampered)
        )
        session.commit()
    broken = (await consent.client.get(f"/v1/revisions/{agreement_id}", headers=ORG)).json()
    assert broken["chainValid"] is False
    assert any(revisions[1]["id"] in p for p in broken["problems"])


async def test_record_keeps_the_revision_it_consented_to(consent):
    policy = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0]
    created = (
        await consent.client.post(
            "/config/data-agreement/", json=agreement_body(policy["id"]), headers=ORG
        )
    ).json()
    agreement_id = created["dataAgreement"]["id"]
    await consent.individual("tok-rev")
    record = (await consent.consent("tok-rev", agreement=agreement_id))["consentRecord"]
    assert record["dataAgreementRevision"]["id"] == created["revision"]["id"]
    assert record["dataAgreementRevisionHash"] == created["revision"]["serializedHash"]
    wider = agreement_body(
        policy["id"],
        version="2.0.0",
        dataAttributes=[
            {"name": "Exam results", "sensitivity": "low", "category": "exam-results"},
            {"name": "Attendance", "sensitivity": "low", "category": "attendance"},
        ],
    )
    await consent.client.put(f"/config/data-agreement/{agreement_id}/", json=wider, headers=ORG)
    decision = await consent.decide(
        "tok-rev",
        dataConsumer="DPI/GOV/MSP/spmis",
        dataProvider="DPI/GOV/MOE/emis",
        purpose="scholarship",
        dataCategories=["attendance"],
    )
    assert decision["reasonCode"] == "category-not-covered"

    old = await consent.client.post(
        f"{RECORD}/data-agreement/{agreement_id}/",
        params={"revisionId": SCHOOL_ENROLMENT_ID},
        headers={**ORG, "X-ConsentBB-IndividualId": "tok-rev"},
    )
    assert old.status_code in (400, 404)


async def test_agreement_and_policy_bad_input(consent):
    policies = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"]
    policy_id = policies[0]["id"]
    before = (await consent.client.get("/config/data-agreements/", headers=ORG)).json()
    bad = [
        agreement_body(policy_id, lawfulBasis="because"),
        agreement_body(policy_id, dataConsumer="MOE"),
        agreement_body(policy_id, dataAttributes=[]),
        agreement_body("00000000-0000-4000-8000-000000000000"),
        {"dataAgreement": {"purpose": "x"}},
    ]
    for body in bad:
        response = await consent.client.post("/config/data-agreement/", json=body, headers=ORG)
        assert response.status_code in (400, 404), body
        assert response.headers["content-type"] == "application/problem+json"
    listed = (await consent.client.get("/config/data-agreements/", headers=ORG)).json()
    assert listed == before

    in_use = await consent.client.delete(f"/config/policy/{policy_id}/", headers=ORG)
    assert in_use.status_code == 409
    missing = await consent.client.get("/config/policy/not-an-id/", headers=ORG)
    assert missing.status_code == 400


async def test_policy_crud_and_revisions(consent):
    body = {"policy": {"name": "P", "version": "1", "url": "https://example.org/p"}}
    created = await consent.client.post("/config/policy/", json=body, headers=ORG)
    policy_id = created.json()["policy"]["id"]
    body["policy"]["version"] = "2"
    updated = await consent.client.put(f"/config/policy/{policy_id}/", json=body, headers=ORG)
    assert updated.json()["policy"]["version"] == "2"
    first_revision = created.json()["revision"]["id"]
    at_first = await consent.client.get(
        f"/service/policy/{policy_id}/", params={"revisionId": first_revision}, headers=ORG
    )
    assert at_first.json()["revision"]["id"] == first_revision
    revisions = await consent.client.get(f"/config/policy/{policy_id}/revisions/", headers=ORG)
    assert len(revisions.json()["revisions"]) == 2
    deleted = await consent.client.delete(f"/config/policy/{policy_id}/", headers=ORG)
    assert deleted.status_code == 200 and deleted.json()["revision"]["objectId"] == policy_id
    gone = await consent.client.get(f"/config/policy/{policy_id}/", headers=ORG)
    assert gone.status_code == 404


async def test_deleted_agreement_refuses_new_records(consent):
    policy = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0]
    agreement_id = (
        await consent.client.post(
            "/config/data-agreement/", json=agreement_body(policy["id"]), headers=ORG
        )
    ).json()["dataAgreement"]["id"]
    deleted = await consent.client.delete(f"/config/data-agreement/{agreement_id}/", headers=ORG)
    assert deleted.status_code == 200
    await consent.individual("tok-del")
    response = await consent.client.post(
        f"{RECORD}/data-agreement/{agreement_id}/",
        headers={**ORG, "X-ConsentBB-IndividualId": "tok-del"},
    )
    assert response.status_code == 404
    audit = (await consent.client.get("/audit/data-agreements/", headers=ORG)).json()
    assert agreement_id in [a["id"] for a in audit["dataAgreements"]]
    audited = await consent.client.get(f"/audit/data-agreement/{agreement_id}/", headers=ORG)
    assert audited.status_code == 200 and audited.json()["dataAgreement"]["active"] is False


EMPTY: tuple[Any, ...] = (None, {}, "")
SPEC_SIGNATURE = {"id": "s1", "payload": "p", "signature": "x", "verificationMethod": "m"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("signature", SPEC_SIGNATURE), ("compatibleWithVersion", {"id": SCHOOL_ENROLMENT_ID})],
)
async def test_spec_agreement_fields_not_implemented_are_refused_by_name(consent, field, value):
    """The spec's `DataAgreement.signature` and `compatibleWithVersion` are not implemented:
    refused naming the field on create and update, nothing changed; empty ones are absent."""
    policy = (await consent.client.get("/config/policies/", headers=ORG)).json()["policies"][0]
    before = (await consent.client.get("/config/data-agreements/", headers=ORG)).json()
    created = await consent.client.post(
        "/config/data-agreement/", json=agreement_body(policy["id"], **{field: value}), headers=ORG
    )
    assert created.status_code == 400, created.text
    assert created.headers["content-type"] == "application/problem+json"
    detail = created.json()["detail"]
    assert f"dataAgreement.{field}" in detail and "not implemented" in detail, detail
    assert (await consent.client.get("/config/data-agreements/", headers=ORG)).json() == before

    path = f"/config/data-agreement/{SCHOOL_ENROLMENT_ID}/"
    shown = (await consent.client.get(path, headers=ORG)).json()
    chain = (await consent.client.get(f"/v1/revisions/{SCHOOL_ENROLMENT_ID}", headers=ORG)).json()
    body = agreement_body(policy["id"], purposeCode="school-enrolment", **{field: value})
    updated = await consent.client.put(path, json=body, headers=ORG)
    assert updated.status_code == 400 and f"dataAgreement.{field}" in updated.json()["detail"]
    assert (await consent.client.get(path, headers=ORG)).json() == shown
    after = (await consent.client.get(f"/v1/revisions/{SCHOOL_ENROLMENT_ID}", headers=ORG)).json()
    assert after == chain

    for empty in EMPTY:
        body = agreement_body(policy["id"], **{field: empty})
        accepted = await consent.client.post("/config/data-agreement/", json=body, headers=ORG)
        assert accepted.status_code in (200, 201), accepted.text
