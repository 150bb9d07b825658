"""The decision endpoint: permit and every kind of deny, immediacy, audit, access."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.consent.runtime import ConsentRuntime
from services.kernel.runtime import kernel_state, runtime_of
from tests.consent.conftest import CASH_TRANSFER_ID, MEDIATOR, ORG, SOCIAL

pytestmark = pytest.mark.anyio


async def test_permit_names_the_record_and_is_stored(consent):
    await consent.individual("tok-permit")
    created = await consent.consent("tok-permit")
    record_id = created["consentRecord"]["id"]

    answer = await consent.decide("tok-permit")
    assert answer["decision"] == "permit"
    assert answer["consentRecordId"] == record_id
    assert answer["reasonCode"] == "permitted" and record_id in answer["reason"]

    stored = await consent.client.get(f"/v1/decisions/{answer['decisionId']}", headers=ORG)
    assert stored.status_code == 200
    audit = stored.json()
    assert audit["decision"] == "permit" and audit["consentRecordId"] == record_id
    assert audit["subjectLinked"] is True
    assert "tok-permit" not in stored.text


async def test_subject_can_be_the_individual_id(consent):
    individual = await consent.individual("tok-by-id")
    await consent.consent("tok-by-id")
    assert (await consent.decide(individual["id"]))["decision"] == "permit"


async def test_deny_without_any_record(consent):
    answer = await consent.decide("tok-nobody")
    assert answer == {
        "decision": "deny",
        "decisionId": answer["decisionId"],
        "consentRecordId": None,
        "reason": "No consent record for this subject.",
        "reasonCode": "no-consent-record",
    }


async def test_withdrawal_takes_effect_at_the_very_next_decision(consent):
    await consent.individual("tok-withdraw")
    record_id = (await consent.consent("tok-withdraw"))["consentRecord"]["id"]
    assert (await consent.decide("tok-withdraw"))["decision"] == "permit"

    withdrawn = await consent.update("tok-withdraw", record_id, optIn=False)
    assert withdrawn.status_code == 200
    answer = await consent.decide("tok-withdraw")
    assert answer["decision"] == "deny" and answer["reasonCode"] == "withdrawn"
    assert answer["consentRecordId"] == record_id

    again = await consent.update("tok-withdraw", record_id, optIn=True)
    assert again.status_code == 200
    assert (await consent.decide("tok-withdraw"))["decision"] == "permit"


async def test_expired_and_not_yet_valid(consent):
    await consent.individual("tok-expiry")
    now = datetime.now(UTC)
    await consent.consent("tok-expiry", consentExpiry=(now + timedelta(days=2)).isoformat())
    later = (now + timedelta(days=3)).isoformat()
    answer = await consent.decide("tok-expiry", at=later)
    assert answer["decision"] == "deny" and answer["reasonCode"] == "expired"
    earlier = (now - timedelta(days=1)).isoformat()
    assert (await consent.decide("tok-expiry", at=earlier))["reasonCode"] == "not-yet-valid"
    assert (await consent.decide("tok-expiry"))["decision"] == "permit"


async def test_expiry_takes_effect_without_any_write(consent):
    from sqlalchemy import update

    from services.consent.records.models import ConsentRecord

    await consent.individual("tok-lapse")
    record_id = (await consent.consent("tok-lapse"))["consentRecord"]["id"]
    assert (await consent.decide("tok-lapse"))["decision"] == "permit"
    past = datetime.now(UTC) - timedelta(seconds=1)
    with kernel_state(consent.app).database.session() as session:  # time passing, simulated
        session.execute(
            update(ConsentRecord).where(ConsentRecord.id == record_id).values(consent_expiry=past)
        )
        session.commit()
    assert (await consent.decide("tok-lapse"))["reasonCode"] == "expired"


async def test_wrong_purpose_wrong_consumer_and_category_not_covered(consent):
    await consent.individual("tok-scope")
    record_id = (await consent.consent("tok-scope"))["consentRecord"]["id"]

    purpose = await consent.decide("tok-scope", purpose="cash-transfer")
    assert (purpose["decision"], purpose["reasonCode"]) == ("deny", "wrong-purpose")
    assert purpose["consentRecordId"] == record_id

    consumer = await consent.decide("tok-scope", dataConsumer=SOCIAL)
    assert (consumer["decision"], consumer["reasonCode"]) == ("deny", "wrong-consumer")

    category = await consent.decide(
        "tok-scope", dataCategories=["immunisation-status", "pregnancy-status"]
    )
    assert (category["decision"], category["reasonCode"]) == ("deny", "category-not-covered")
    assert "pregnancy-status" in category["reason"]


async def test_each_agreement_permits_only_its_own_exchange(consent):
    await consent.individual("tok-two")
    await consent.consent("tok-two", agreement=CASH_TRANSFER_ID)
    cash = await consent.decide(
        "tok-two", dataConsumer=SOCIAL, purpose="cash-transfer", dataCategories=["pregnancy-status"]
    )
    assert cash["decision"] == "permit"
    assert (await consent.decide("tok-two"))["reasonCode"] == "wrong-consumer"


async def test_paused_consent_denies_until_resumed(consent):
    await consent.individual("tok-pause")
    record_id = (await consent.consent("tok-pause"))["consentRecord"]["id"]
    paused = await consent.update("tok-pause", record_id, consentArtefact={"status": "PAUSED"})
    assert paused.json()["consentRecord"]["consentArtefact"]["status"] == "PAUSED"
    assert (await consent.decide("tok-pause"))["reasonCode"] == "paused"
    await consent.update("tok-pause", record_id, consentArtefact={"status": "ACTIVE"})
    assert (await consent.decide("tok-pause"))["decision"] == "permit"


async def test_only_the_mediator_may_ask_and_bad_input_is_400(consent):
    body = {
        "subject": "x",
        "dataConsumer": "DPI/GOV/MOE/emis",
        "dataProvider": "DPI/GOV/MOH/hmis",
        "purpose": "school-enrolment",
        "dataCategories": ["immunisation-status"],
    }
    before = (await consent.client.get("/v1/decisions", headers=ORG)).json()["decisions"]
    anonymous = await consent.client.post("/v1/decisions", json=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    as_org = await consent.client.post("/v1/decisions", json=body, headers=ORG)
    assert as_org.status_code == 401

    for broken in (
        {**body, "dataConsumer": "not-a-member"},
        {**body, "dataCategories": []},
        {**body, "purpose": "Has Spaces"},
        {k: v for k, v in body.items() if k != "subject"},
    ):
        response = await consent.client.post("/v1/decisions", json=broken, headers=MEDIATOR)
        assert response.status_code == 400, broken
        assert response.json()["status"] == 400

    listed = await consent.client.get("/v1/decisions", headers=ORG)
    assert listed.json()["decisions"] == before  # nothing was decided, nothing stored


async def test_every_decision_is_listed_for_audit(consent):
    await consent.individual("tok-audit")
    record_id = (await consent.consent("tok-audit"))["consentRecord"]["id"]
    ids = [(await consent.decide("tok-audit"))["decisionId"] for _ in range(3)]
    ids.append((await consent.decide("tok-audit", purpose="cash-transfer"))["decisionId"])
    listed = await consent.client.get(
        "/v1/decisions", params={"consentRecordId": record_id}, headers=ORG
    )
    decisions = listed.json()["decisions"]
    assert sorted(d["decisionId"] for d in decisions) == sorted(ids)
    assert [d["decision"] for d in decisions].count("deny") == 1


async def test_a_decision_that_cannot_be_stored_is_not_given(consent, monkeypatch):
    await consent.individual("tok-unstored")
    await consent.consent("tok-unstored")
    store = runtime_of(consent.app, ConsentRuntime).decision_log.store

    def broken(entries):
        raise RuntimeError("disk full")

    before = (await consent.client.get("/v1/decisions", headers=ORG)).json()["decisions"]
    monkeypatch.setattr(store, "write", broken)
    body = {
        "subject": "tok-unstored",
        "dataConsumer": "DPI/GOV/MOE/emis",
        "dataProvider": "DPI/GOV/MOH/hmis",
        "purpose": "school-enrolment",
        "dataCategories": ["immunisation-status"],
    }
    failed = await consent.client.post("/v1/decisions", json=body, headers=MEDIATOR)
    assert failed.status_code == 503 and failed.json()["code"] == "decision-not-recorded"
    assert "permit" not in failed.text and "disk full" not in failed.text
    monkeypatch.undo()
    assert (await consent.client.get("/v1/decisions", headers=ORG)).json()["decisions"] == before
    assert (await consent.decide("tok-unstored"))["decision"] == "permit"


async def test_unreadable_records_give_no_decision(settings_for):
    from services.consent.main import create_app
    from services.consent.settings import ConsentSettings
    from services.kernel.testing import serve_in_process

    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    app = create_app(settings_for("consent", cls=ConsentSettings, database_url=unreachable))
    async with serve_in_process(app) as client:
        body = {
            "subject": "tok-x",
            "dataConsumer": "DPI/GOV/MOE/emis",
            "dataProvider": "DPI/GOV/MOH/hmis",
            "purpose": "school-enrolment",
            "dataCategories": ["immunisation-status"],
        }
        response = await client.post("/v1/decisions", json=body, headers=MEDIATOR)
        assert response.status_code == 503
        assert response.json()["code"] == "consent-store-unavailable"


async def test_a_refused_value_fails_its_own_decision_not_its_batch(consent):
    """Decisions are committed in groups: a value the database refuses (a NUL character on
    PostgreSQL) is that request's 400, while the decisions batched with it are given."""
    good = {
        "subject": "tok-batch",
        "dataConsumer": "DPI/GOV/MOE/emis",
        "dataProvider": "DPI/GOV/MOH/hmis",
        "purpose": "school-enrolment",
        "dataCategories": ["immunisation-status"],
    }
    bad = {**good, "dataConsumer": "DPI/GOV/MOE/em\u0000is"}
    bodies = [good, bad, good, good]
    answers = await asyncio.gather(
        *(consent.client.post("/v1/decisions", json=b, headers=MEDIATOR) for b in bodies)
    )
    assert [a.status_code for i, a in enumerate(answers) if i != 1] == [200, 200, 200]
    refused = answers[1]
    if refused.status_code == 400:  # PostgreSQL refuses NUL in text
        assert refused.json()["code"] == "unstorable-value"
    else:  # SQLite stores it: the decision is given and stored like any other
        assert refused.status_code == 200, refused.text
    for answer in answers:
        if answer.status_code == 200:
            decision_id = answer.json()["decisionId"]
            stored = await consent.client.get(f"/v1/decisions/{decision_id}", headers=ORG)
            assert stored.status_code == 200, stored.text
