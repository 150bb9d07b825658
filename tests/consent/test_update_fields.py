"""An update restates what it cannot change: the spec's `ConsentRecord` fields the service keeps
(`state`), or that change elsewhere (the signature), or never (the agreement, its revision), are
taken when they equal the record's, as a record read and sent back does, and refused by name
with another value; the artefact's fields other than the window and status are refused by name
on create and update. A refused update changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.consent.seed import SCHOOL_ENROLMENT_ID
from tests.consent.conftest import ORG, RECORD

pytestmark = pytest.mark.anyio


async def _read(consent: Any, record_id: str) -> dict[str, Any]:
    read = await consent.client.get(f"/audit/consent-record/{record_id}/", headers=ORG)
    assert read.status_code == 200, read.text
    record: dict[str, Any] = read.json()["consentRecord"]
    return record


async def test_a_record_read_and_sent_back_updates_what_changed(consent):
    await consent.individual("tok-echo")
    record = (await consent.consent("tok-echo"))["consentRecord"]
    echoed = await _read(consent, record["id"])
    echoed.pop("consentArtefact")  # its window is chosen at consent, not restated
    echoed["optIn"] = False
    updated = await consent.update("tok-echo", record["id"], **echoed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["consentRecord"]["optIn"] is False
    assert (await consent.decide("tok-echo"))["decision"] == "deny"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", "signed"),
        ("signature", {"id": "sig-not-this-records"}),
        ("dataAgreement", {"id": "another-agreement"}),
        ("dataAgreementRevision", "another-revision"),
    ],
)
async def test_another_value_of_a_kept_field_is_refused_by_name(consent, field, value):
    token = f"tok-kept-{field}"
    await consent.individual(token)
    record = (await consent.consent(token))["consentRecord"]
    before = await _read(consent, record["id"])
    refused = await consent.update(token, record["id"], optIn=False, **{field: value})
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "immutable-field"
    assert f"consentRecord.{field}" in refused.json()["detail"]
    assert await _read(consent, record["id"]) == before
    assert (await consent.decide(token))["decision"] == "permit"


async def test_artefact_fields_chosen_elsewhere_are_refused_by_name(consent):
    await consent.individual("tok-mode")
    created = await consent.client.post(
        f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/",
        headers={**ORG, "X-ConsentBB-IndividualId": "tok-mode"},
        json={"consentArtefact": {"consentMode": "STORE"}},
    )
    assert created.status_code == 400, created.text
    assert "consentArtefact.consentMode" in created.json()["detail"]
    listed = await consent.client.get(
        f"{RECORD}/consent-record/", headers={**ORG, "X-ConsentBB-IndividualId": "tok-mode"}
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["consentRecords"] == []

    record = (await consent.consent("tok-mode"))["consentRecord"]
    before = await _read(consent, record["id"])
    refused = await consent.update(
        "tok-mode", record["id"], consentArtefact={"status": "PAUSED", "dataCategories": ["x"]}
    )
    assert refused.status_code == 400, refused.text
    assert "consentArtefact.dataCategories" in refused.json()["detail"]
    window = await consent.update(
        "tok-mode", record["id"], consentArtefact={"consentStart": "2030-01-01T00:00:00Z"}
    )
    assert window.status_code == 400 and window.json()["code"] == "immutable-field"
    assert await _read(consent, record["id"]) == before
    paused = await consent.update("tok-mode", record["id"], consentArtefact={"status": "PAUSED"})
    assert paused.status_code == 200, paused.text
