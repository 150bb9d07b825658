"""Consent enforcement with subject token exchange (identity-flows.md), behind fakes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

STATUS = f"/r1/{HEALTH}/immunisation-status/people/status"


def about(subject: str | None, purpose: str | None = "school-enrolment") -> dict[str, str]:
    extra = {}
    if subject is not None:
        extra["X-DPI-Subject"] = subject
    if purpose is not None:
        extra["X-DPI-Purpose"] = purpose
    return client_headers(EDUCATION, **extra)


async def log_of(client, x_road_id: str) -> dict[str, Any]:
    found = await client.get(f"/admin/messagelog/records?xRoadId={x_road_id}", headers=ADMIN)
    (record,) = found.json()["records"]
    return dict(record)


async def test_permit_forwards_with_the_providers_token(shared_mediator, shared_fakes, provider):
    _, client = shared_mediator
    exchanger, decider = shared_fakes
    response = await client.get(f"{STATUS}?vaccine=mmr", headers=about("edu-amina"))
    assert response.status_code == 200, response.text
    seen = response.json()["headers"]
    assert seen["x-dpi-subject"] == "hmis-amina"  # the provider's own token, never edu-amina
    assert "edu-amina" not in str(response.json())
    assert exchanger.calls[-1] == {
        "from": "moe-emis",
        "token": "edu-amina",
        "to": ["moh-hmis", "dpa-consent"],
    }
    assert decider.calls[-1] == {
        "subject": "cons-amina",
        "data_consumer": EDUCATION,
        "data_provider": HEALTH,
        "purpose": "school-enrolment",
        "data_categories": ["immunisation-status"],
    }
    record = await log_of(client, response.headers["x-road-id"])
    assert record["decisionId"] == f"dec-{len(decider.calls)}"
    assert record["consentRecordId"] == "rec-1"
    assert record["purpose"] == "school-enrolment"
    assert record["subjectHash"] == hashlib.sha256(b"edu-amina").hexdigest()
    assert "edu-amina" not in str(record) and "hmis-amina" not in str(record)


async def test_deny_is_a_reasoned_access_denial_and_logged(shared_mediator, shared_fakes, provider):
    _, client = shared_mediator
    before = len(provider[0].state.seen)
    response = await client.get(STATUS, headers=about("edu-amina", "marketing"))
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == "Server.ServerProxy.AccessDenied"
    assert body["message"].startswith("Consent denied:")
    assert "no active consent for this purpose" in body["message"]
    assert response.headers["x-road-error"] == body["type"]
    assert len(provider[0].state.seen) == before
    record = await log_of(client, response.headers["x-road-id"])
    assert record["decisionId"] and record["statusCode"] == 500
    assert record["outcome"] == "Failed" and record["purpose"] == "marketing"


async def test_unknown_or_inactive_subjects_fail_closed(shared_mediator, shared_fakes):
    _, client = shared_mediator
    _, decider = shared_fakes
    calls = len(decider.calls)
    unknown = await client.get(STATUS, headers=about("edu-nobody"))
    assert unknown.status_code == 500
    assert unknown.json()["type"] == "Server.ServerProxy.AccessDenied"
    assert "identity is unknown" in unknown.json()["message"]
    inactive = await client.get(STATUS, headers=about("edu-ben"))
    assert inactive.status_code == 500 and "not active" in inactive.json()["message"]
    assert len(decider.calls) == calls  # no decision asked about an unknown identity


async def test_consent_required_needs_subject_and_purpose(shared_mediator):
    _, client = shared_mediator
    for headers in (about(None), about("edu-amina", None)):
        response = await client.get(STATUS, headers=headers)
        assert response.status_code == 400
        assert "X-DPI-Subject" in response.json()["message"]


async def test_subject_is_translated_even_without_consent(shared_mediator, shared_fakes):
    _, client = shared_mediator
    exchanger, _ = shared_fakes
    await client.post(
        "/admin/rights",
        headers=ADMIN,
        json={"client": EDUCATION, "provider": REGISTRIES, "serviceCode": "echo"},
    )
    response = await client.get(
        f"/r1/{REGISTRIES}/echo/x", headers=about("edu-amina", purpose=None)
    )
    assert response.status_code == 200
    assert response.json()["headers"]["x-dpi-subject"] == "crvs-registries-amina"
    assert exchanger.calls[-1]["to"] == ["crvs-registries"]
    unknown = await client.get(f"/r1/{REGISTRIES}/echo/x", headers=about("edu-nobody", None))
    assert unknown.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"


async def test_log_filters_by_consent_decision_and_purpose(shared_mediator, shared_fakes):
    _, client = shared_mediator
    permitted = await client.get(STATUS, headers=about("edu-amina"))
    denied = await client.get(STATUS, headers=about("edu-amina", "marketing"))
    assert (permitted.status_code, denied.status_code) == (200, 500)
    first = (await log_of(client, permitted.headers["x-road-id"]))["seq"]
    plain = await client.get(f"/r1/{REGISTRIES}/echo/x", headers=client_headers(HEALTH))
    assert plain.status_code == 200

    async def ids(query: str) -> list[str]:
        found = await client.get(
            f"/admin/messagelog/records?afterSeq={first - 1}&{query}", headers=ADMIN
        )
        assert found.status_code == 200, found.text
        return [r["xRoadId"] for r in found.json()["records"]]

    assert await ids("consent=permit") == [permitted.headers["x-road-id"]]
    assert await ids("consent=deny") == [denied.headers["x-road-id"]]
    assert await ids("consent=none") == [plain.headers["x-road-id"]]
    assert await ids("purpose=marketing") == [denied.headers["x-road-id"]]
    assert await ids("purpose=marketing&consent=permit") == []
    bad = await client.get("/admin/messagelog/records?consent=maybe", headers=ADMIN)
    assert bad.status_code == 400 and "consent" in bad.text
