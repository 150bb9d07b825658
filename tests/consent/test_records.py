"""Consent record lifecycle: create, read, list, update, withdraw, drafts and signatures."""

import pytest

from tests.consent.conftest import ORG, RECORD, SCHOOL_ENROLMENT_ID

pytestmark = pytest.mark.anyio


def as_person(token: str) -> dict[str, str]:
    return {**ORG, "X-ConsentBB-IndividualId": token}


async def test_lifecycle_create_read_update_withdraw(consent):
    individual = await consent.individual("tok-life")
    created = await consent.consent("tok-life")
    record, revision = created["consentRecord"], created["revision"]
    assert record["individual"]["id"] == individual["id"]
    assert record["dataAgreement"]["id"] == SCHOOL_ENROLMENT_ID
    assert record["optIn"] is True and record["state"] == "unsigned"
    artefact = record["consentArtefact"]
    assert artefact["status"] == "ACTIVE"
    assert artefact["DataConsumer"] == {"id": "DPI/GOV/MOE/emis", "type": "DATA_CONSUMER"}
    assert artefact["DataProvider"]["id"] == "DPI/GOV/MOH/hmis"
    assert artefact["Customer"] == {"id": "tok-life"}
    assert artefact["Purpose"]["code"] == "school-enrolment"
    assert artefact["dataCategories"] == ["immunisation-status"]
    assert artefact["consentMode"] == "QUERY" and artefact["fetchType"] == "PERIODIC"
    assert artefact["Frequency"] == {"unit": "MONTH", "value": 1}
    assert artefact["signature"].count(".") == 2 and ".." in artefact["signature"]
    assert revision["schemaName"] == "consentrecord" and revision["objectId"] == record["id"]

    read = await consent.client.get(
        f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", headers=as_person("tok-life")
    )
    assert read.status_code == 200 and read.json()["consentRecord"]["id"] == record["id"]
    by_id = await consent.client.get(
        f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", headers=as_person(individual["id"])
    )
    assert by_id.json()["consentRecord"]["id"] == record["id"]

    mine = await consent.client.get(f"{RECORD}/consent-record/", headers=as_person("tok-life"))
    assert [r["id"] for r in mine.json()["consentRecords"]] == [record["id"]]

    withdrawn = await consent.update("tok-life", record["id"], optIn=False)
    assert withdrawn.status_code == 200
    body = withdrawn.json()
    assert body["consentRecord"]["optIn"] is False
    assert body["consentRecord"]["consentArtefact"]["status"] == "REVOKED"
    assert body["revision"]["predecessorHash"] == revision["serializedHash"]

    twice = await consent.update("tok-life", record["id"], optIn=False)
    assert twice.status_code == 409 and twice.json()["code"] == "already-withdrawn"

    everything = await consent.client.get(
        f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/all/", headers=as_person("tok-life")
    )
    assert len(everything.json()["consentRecords"]) == 1


async def test_one_record_per_agreement_and_individual(consent):
    await consent.individual("tok-once")
    await consent.consent("tok-once")
    again = await consent.client.post(
        f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", headers=as_person("tok-once")
    )
    assert again.status_code == 409 and again.json()["code"] == "consent-record-exists"


async def test_bad_input_is_a_clear_4xx_and_changes_nothing(consent):
    await consent.individual("tok-bad")
    person = as_person("tok-bad")
    before = (await consent.client.get("/audit/consent-records/", headers=ORG)).json()
    unknown = "00000000-0000-4000-8000-000000000000"
    cases = [
        ("post", f"{RECORD}/data-agreement/{unknown}/", person, None, 404),
        ("post", f"{RECORD}/data-agreement/not-a-uuid/", person, None, 400),
        ("post", f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", ORG, None, 400),
        (
            "post",
            f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
            person,
            {"consentArtefact": {"consentExpiry": "2020-01-01T00:00:00Z"}},
            400,
        ),
        (
            "post",
            f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
            as_person("tok-unregistered"),
            None,
            404,
        ),
        ("post", f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/", {}, None, 401),
        ("get", f"{RECORD}/consent-record/", ORG, None, 400),
    ]
    for method, path, headers, body, status in cases:
        response = await consent.client.request(method, path, headers=headers, json=body)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    mine = await consent.client.get(f"{RECORD}/consent-record/", headers=person)
    assert mine.json()["consentRecords"] == []
    after = (await consent.client.get("/audit/consent-records/", headers=ORG)).json()
    assert after == before


async def test_update_is_restricted_and_owner_only(consent):
    await consent.individual("tok-owner")
    await consent.individual("tok-other")
    record = (await consent.consent("tok-owner"))["consentRecord"]
    stranger = await consent.update("tok-other", record["id"], optIn=False)
    assert stranger.status_code == 403
    immutable = await consent.update(
        "tok-owner", record["id"], dataAgreementRevisionHash="0" * 40, optIn=False
    )
    assert immutable.status_code == 400 and immutable.json()["code"] == "immutable-field"
    empty = await consent.update("tok-owner", record["id"])
    assert empty.status_code == 400
    expired = await consent.update(
        "tok-owner", record["id"], consentArtefact={"consentExpiry": "2001-01-01T00:00:00Z"}
    )
    assert expired.status_code == 400 and expired.json()["code"] == "expired-window"
    current = await consent.client.get(
        f"/service/verification/consent-record/{record['id']}/", headers=ORG
    )
    assert current.json()["consentRecord"]["optIn"] is True
    assert current.json()["consentRecord"]["consentArtefact"] == record["consentArtefact"]


async def test_draft_then_signed_create(consent):
    individual = await consent.individual("tok-draft")
    draft = await consent.client.post(
        f"{RECORD}/consent-record/draft/",
        params={"individualId": individual["id"], "dataAgreementId": SCHOOL_ENROLMENT_ID},
        headers=ORG,
    )
    assert draft.status_code == 200, draft.text
    record, signature = draft.json()["consentRecord"], draft.json()["signature"]
    assert record["id"] == "" and signature["id"] == ""  # a draft is not stored: no PK yet
    assert record["consentArtefact"]["status"] == "PENDING"
    assert signature["signedWithoutObjectReference"] is True
    stored_for_me = await consent.client.get(
        "/service/verification/consent-records/",
        params={"individualId": individual["id"]},
        headers=ORG,
    )
    assert stored_for_me.json()["consentRecords"] == []  # a draft is not stored

    tampered = {**record, "dataAgreementRevisionHash": "f" * 40}
    rejected = await consent.client.post(
        f"{RECORD}/consent-record/",
        json={"consentRecord": tampered, "signature": {**signature, "signature": "sig"}},
        headers=as_person("tok-draft"),
    )
    assert rejected.status_code == 400 and rejected.json()["code"] == "revision-hash-mismatch"

    stored = await consent.client.post(
        f"{RECORD}/consent-record/",
        json={"consentRecord": record, "signature": {**signature, "signature": "person-sig"}},
        headers=as_person("tok-draft"),
    )
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["consentRecord"]["state"] == "signed"
    assert body["consentRecord"]["signature"]["id"] == body["signature"]["id"]
    assert body["signature"]["objectReference"] == body["revision"]["id"]
    assert body["signature"]["verificationPayload"] == body["revision"]["serializedSnapshot"]
    assert (await consent.decide("tok-draft"))["decision"] == "permit"


async def test_signature_flow_and_invalid_transitions(consent):
    await consent.individual("tok-sign")
    record = (await consent.consent("tok-sign"))["consentRecord"]
    path = f"{RECORD}/consent-record/{record['id']}/signature/"
    person = as_person("tok-sign")

    no_pending = await consent.client.put(
        path, json={"signature": {"signature": "x"}}, headers=person
    )
    assert no_pending.status_code == 409

    prepared = await consent.client.post(
        path, json={"signature": {"verificationSignedBy": "tok-sign"}}, headers=person
    )
    assert prepared.status_code == 200
    unsigned = prepared.json()["signature"]
    assert unsigned["signature"] == "" and unsigned["objectType"] == "revision"

    wrong_hash = await consent.client.put(
        path,
        json={"signature": {"signature": "s", "verificationPayloadHash": "0" * 64}},
        headers=person,
    )
    assert wrong_hash.status_code == 400
    signed = await consent.client.put(
        path,
        json={
            "signature": {
                "signature": "person-signature",
                "verificationPayloadHash": unsigned["verificationPayloadHash"],
            }
        },
        headers=person,
    )
    assert signed.status_code == 200 and signed.json()["signature"]["signature"]
    read = await consent.client.get(f"/audit/consent-record/{record['id']}/", headers=ORG)
    assert read.json()["consentRecord"]["state"] == "signed"

    updated = await consent.update("tok-sign", record["id"], optIn=False)
    assert updated.json()["consentRecord"]["state"] == "unsigned"  # update voids the signature
    assert updated.json()["revision"]["predecessorSignature"] == "person-signature"

    withdrawn_sign = await consent.client.post(path, json={"signature": {}}, headers=person)
    assert withdrawn_sign.status_code == 409
    assert withdrawn_sign.json()["code"] == "invalid-transition"


async def test_individuals_config_and_service(consent):
    created = await consent.client.post(
        "/config/individual/", json={"individual": {"externalId": "tok-cfg"}}, headers=ORG
    )
    individual = created.json()["individual"]
    assert individual["externalIdType"] == "psut:dpa-consent"
    duplicate = await consent.client.post(
        "/service/individual/", json={"individual": {"externalId": "tok-cfg"}}, headers=ORG
    )
    assert duplicate.status_code == 409
    read = await consent.client.get(f"/config/individual/{individual['id']}/", headers=ORG)
    assert read.json() == {"individual": individual}
    await consent.consent("tok-cfg")
    renamed = await consent.client.put(
        f"/service/individual/{individual['id']}/",
        json={"individual": {"externalId": "tok-cfg-2"}},
        headers=ORG,
    )
    assert renamed.status_code == 200
    assert (await consent.decide("tok-cfg-2"))["decision"] == "permit"
    assert (await consent.decide("tok-cfg"))["reasonCode"] == "no-consent-record"
    listed = await consent.client.get("/service/individuals/", headers=ORG)
    assert individual["id"] in [i["id"] for i in listed.json()["individuals"]]
    unauthorised = await consent.client.get("/config/individuals/", headers={})
    assert unauthorised.status_code == 401
    wrong_key = await consent.client.get(
        "/config/individuals/", headers={"Authorization": "ApiKey nope"}
    )
    assert wrong_key.status_code == 401
