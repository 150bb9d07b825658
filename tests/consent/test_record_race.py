"""Concurrent grants of the same agreement to the same person: one record, the others a 409."""

import asyncio

import pytest

from tests.consent.conftest import ORG, RECORD, SCHOOL_ENROLMENT_ID

pytestmark = pytest.mark.anyio


async def test_concurrent_duplicate_grants_are_409_never_500(consent):
    await consent.individual("tok-race")
    headers = {**ORG, "X-ConsentBB-IndividualId": "tok-race"}
    path = f"{RECORD}/data-agreement/{SCHOOL_ENROLMENT_ID}/"
    answers = await asyncio.gather(*(consent.client.post(path, headers=headers) for _ in range(8)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 7, [answer.text for answer in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "consent-record-exists"
    records = await consent.client.get(f"{RECORD}/consent-record/", headers=headers)
    assert records.status_code == 200
    assert len(records.json()["consentRecords"]) == 1
