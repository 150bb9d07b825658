"""Providers take a caller identity only from the mediator; a direct call acts as its key's owner.

Table-driven over every identity header and every operation that uses the caller's identity:
a direct call that claims an identity is refused (403, naming the header) and changes nothing,
not even the person's "who read my data" log; a wrong mediator key is 401; the mediator's real
key carries the forwarded identity into the log.
"""

from __future__ import annotations

from base64 import b64encode
from typing import Any

import httpx
import pytest

from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.kernel.credentials import MEDIATOR_KEY_HEADER, client_key, mediator_key
from services.kernel.testing import serve_in_process
from services.registries.main import create_app as registries_app
from services.registries.settings import RegistriesSettings
from services.sectoral_platform.main import create_app as platform_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, QUIET
from tests.sectoral_platform.tracker_helpers import child, sync_import
from tests.security.caller_identity_support import (
    AS_OWNER,
    EDUCATION,
    FORGED,
    KEY,
    OPERATIONS,
    OWNER,
    PERSON,
    REGISTRY,
    SCHEMA,
    behind_mediator,
    mediated,
    record_state,
    registries,
    usage,
)

__all__ = ["registries"]  # the module-scoped fixture
CLIENT_HEADERS = ("X-Road-Client", "Information-Mediator-Client", "X-GovStack-Client")
HEALTH = "DPI/GOV/MOH/hmis"


def call(http: httpx.Client, operation: str, headers: dict[str, str]) -> httpx.Response:
    method, path, body = OPERATIONS[operation]
    return http.request(method, path, json=body, headers=headers)


def forged_headers(header: str) -> dict[str, str]:
    """A direct call claiming `header`; a statement header rides along the owner's own name."""
    base = KEY if header in CLIENT_HEADERS else AS_OWNER
    return {**base, header: FORGED[header]}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("header", sorted(FORGED))
def test_direct_call_claiming_an_identity_is_refused(
    registries: httpx.Client, header: str, operation: str
) -> None:
    records = record_state(registries)
    logged = usage(registries)
    answer = call(registries, operation, forged_headers(header))
    assert answer.status_code == 403, answer.text
    assert header in answer.json()["detail"] and MEDIATOR_KEY_HEADER in answer.json()["detail"]
    assert usage(registries) == logged
    assert record_state(registries) == records


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_wrong_mediator_key_is_401_and_logs_nothing(
    registries: httpx.Client, operation: str
) -> None:
    records = record_state(registries)
    logged = usage(registries)
    wrong = {**mediated(EDUCATION, **{"X-Road-UserId": "XD Forged"}), MEDIATOR_KEY_HEADER: "x"}
    answer = call(registries, operation, wrong)
    assert answer.status_code == 401, answer.text
    assert MEDIATOR_KEY_HEADER in answer.json()["detail"]
    assert usage(registries) == logged and record_state(registries) == records


def test_direct_call_is_logged_as_the_key_owner(registries: httpx.Client) -> None:
    read = call(registries, "read", AS_OWNER)
    assert read.status_code == 200, read.text
    newest = usage(registries)[0]
    assert newest["operation"] == "read"
    assert newest["readerId"] == OWNER and newest["readerApplicationName"] == OWNER
    assert newest["readerInstitutionId"] == "DPI/GOV/CRVS" and newest["purpose"] is None
    nameless = call(registries, "read", KEY)
    assert nameless.status_code == 400  # GovStack requires the header; it may name only the owner
    assert "Information-Mediator-Client" in nameless.json()["detail"]


@pytest.mark.parametrize("header", sorted(FORGED))
def test_a_birth_registered_under_a_claimed_identity_is_refused(
    registries: httpx.Client, header: str
) -> None:
    outbox = registries.get("/admin/outbox", headers={"X-DPI-Admin-Key": "dpi-admin"})
    child = {"givenName": "Amani", "familyName": "Okello", "sex": "female",
             "dateOfBirth": "2026-01-02", "placeOfBirth": "XD-R01-D01-F001"}  # fmt: skip
    body = {"write": {"content": {"child": child}}}
    answer = registries.post("/data/births/1.0/create", json=body, headers=forged_headers(header))
    assert answer.status_code == 403 and header in answer.json()["detail"]
    after = registries.get("/admin/outbox", headers={"X-DPI-Admin-Key": "dpi-admin"})
    assert after.json()["total"] == outbox.json()["total"]  # no birth-registered event
    births = registries.get("/data/births/1.0", headers=AS_OWNER).json()
    assert births["count"] == 0


def test_a_repeated_client_header_cannot_smuggle_a_claim(registries: httpx.Client) -> None:
    logged = usage(registries)
    headers = [*KEY.items(), ("X-Road-Client", OWNER), ("X-Road-Client", EDUCATION)]
    answer = registries.post(f"{REGISTRY}/read", json=OPERATIONS["read"][2], headers=headers)
    assert answer.status_code == 403 and EDUCATION in answer.json()["detail"]
    assert usage(registries) == logged


@pytest.mark.anyio
async def test_the_key_owner_is_configurable(settings_for: Any) -> None:
    desk = "DPI/GOV/CRVS/registrar-desk"
    settings = settings_for(
        "registries", RegistriesSettings, outbox_enabled=False, api_key_owner=desk
    )
    async with serve_in_process(registries_app(settings)) as http:
        made = await http.post("/database/modify", json=SCHEMA, headers=AS_OWNER)
        assert made.status_code == 403  # the default owner is no longer this key's owner
        as_desk = {**KEY, "Information-Mediator-Client": desk}
        made = await http.post("/database/modify", json=SCHEMA, headers=as_desk)
        assert made.status_code == 200, made.text
        body = {"write": {"content": {"id": PERSON, "name": "Original"}}}
        await http.post(f"{REGISTRY}/create", json=body, headers=as_desk)
        await http.get(f"{REGISTRY}/{PERSON}/readValue/name.json", headers=as_desk)
        query = {"userId": PERSON, "databaseId": "CI"}
        log = await http.get("/data/myPersonalDataUsage", params=query, headers=as_desk)
        assert [(e["readerId"], e["readerInstitutionId"]) for e in log.json()] == [
            (desk, "DPI/GOV/CRVS")
        ]


def test_forwarded_identity_is_accepted_and_logged(registries: httpx.Client) -> None:
    teacher = mediated(
        EDUCATION, **{"X-Road-UserId": "XD Mary Jane", "X-DPI-Purpose": "school-enrolment"}
    )
    read = call(registries, "read", teacher)
    assert read.status_code == 200, read.text
    newest = usage(registries)[0]
    assert (newest["readerId"], newest["readerApplicationName"], newest["purpose"]) == (
        "XD Mary Jane",
        EDUCATION,
        "school-enrolment",
    )
    assert newest["readerInitials"] == "XMJ"


def test_through_the_real_mediator(settings_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    nurse = {
        "X-Road-Client": HEALTH,
        "X-DPI-Client-Key": client_key(HEALTH),
        "X-Road-UserId": "XD Amina Nurse",
        "X-DPI-Purpose": "care",
        MEDIATOR_KEY_HEADER: "a client's guess",  # the mediator drops it and sets its own
    }
    path = f"/r1/DPI/GOV/CRVS/registries/data/callers/1.0/{PERSON}/readValue/name.json"
    with behind_mediator(settings_for, monkeypatch) as (direct, via):
        answer = via.get(path, headers={**nurse, **KEY})
        assert answer.status_code == 200, answer.text
        newest = usage(direct)[0]
        assert (newest["readerId"], newest["readerApplicationName"], newest["purpose"]) == (
            "XD Amina Nurse",
            HEALTH,
            "care",
        )
        spoofed = via.get(path, headers={**nurse, **KEY, "Information-Mediator-Client": EDUCATION})
        assert spoofed.status_code in (400, 403)  # the mediator checks every alias
        around = direct.get(f"{REGISTRY}/{PERSON}/readValue/name.json", headers={**KEY, **nurse})
        assert around.status_code == 401  # the client's guess is not the mediator's key
        assert [e["readerId"] for e in usage(direct)] == ["XD Amina Nurse"]


@pytest.mark.anyio
async def test_immunisation_status_takes_identity_only_from_the_mediator(
    settings_for: Any,
) -> None:
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    async with serve_in_process(platform_app(settings)) as platform:
        platform.headers["Authorization"] = "Basic " + b64encode(":".join(ADMIN).encode()).decode()
        await sync_import(platform, {"trackedEntities": [child(token="tok-health-1")]})
        del platform.headers["Authorization"]
        path = "/api/immunisationStatus"
        claims = {"X-Road-Client": EDUCATION, "X-DPI-Subject": "tok-health-1"}
        for headers in (
            claims,
            {**claims, MEDIATOR_KEY_HEADER: "not-the-key"},
            {**claims, "X-Road-UserId": "XD Forged", "X-DPI-Purpose": "x"},
        ):
            refused = await platform.get(path, headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.json()["httpStatusCode"] == 401  # a DHIS2 WebMessage
        forwarded = {**claims, MEDIATOR_KEY_HEADER: mediator_key()}
        answer = await platform.get(path, headers=forwarded)
        assert answer.status_code == 200, answer.text
        assert answer.json()["requestedBy"] == EDUCATION
        assert answer.json()["doses"]["Measles"] == 1
        no_client = await platform.get(
            path, headers={"X-DPI-Subject": "tok-health-1", MEDIATOR_KEY_HEADER: mediator_key()}
        )
        assert no_client.status_code == 400 and "X-Road-Client" in no_client.text


@pytest.mark.anyio
@pytest.mark.parametrize("key", [None, "not-the-key"])
async def test_consent_decisions_need_the_mediator_key(settings_for: Any, key: str | None) -> None:
    body = {
        "subject": "someone",
        "dataConsumer": EDUCATION,
        "dataProvider": HEALTH,
        "purpose": "school-enrolment",
        "dataCategories": ["immunisation-status"],
    }
    headers = {"X-Road-Client": EDUCATION, **({MEDIATOR_KEY_HEADER: key} if key else {})}
    async with serve_in_process(consent_app(settings_for("consent", ConsentSettings))) as consent:
        refused = await consent.post("/v1/decisions", json=body, headers=headers)
        assert refused.status_code == 401, refused.text
        decided = await consent.post(
            "/v1/decisions", json=body, headers={MEDIATOR_KEY_HEADER: mediator_key()}
        )
        assert decided.status_code == 200 and decided.json()["decision"] == "deny"
