"""A consent-gated service opens exactly the path it serves: one child's consent never reaches
the rest of the health API, by any spelling of the path, and every refusal is logged as one."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlmodel import Session, create_engine

from services.interop_layer.catalogue.models import ServiceEntry
from services.interop_layer.directory import build_directory
from services.interop_layer.main import create_app
from services.interop_layer.members.models import SeedMarker
from services.interop_layer.runtime import InteropRuntime
from services.interop_layer.seed import EXACT_CONSENT_PATHS
from services.interop_layer.settings import InteropSettings
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.interop_layer.support import ADMIN, EDUCATION, client_headers
from tests.security.consent_scope_support import (
    HEALTH,
    STATUS_SERVICE,
    Stack,
    about,
    consent_stack,
    raw_get,
)

pytestmark = pytest.mark.anyio

OTHER_HEALTH_PATHS = [
    "/me",
    "/tracker/trackedEntities",
    "/tracker/trackedEntities?program=IpHINAT79UW&ouMode=ALL",
    "/organisationUnits",
    "/dataValueSets",
    "/immunisationStatus/extra",
    "/immunisationStatus/",
    "/immunisationStatusX",
    "/trackedEntities/abc/immunisationStatus",
    "/IMMUNISATIONSTATUS",
    "",
    "/",
]
# sent byte for byte: dot segments, encoded dots and slashes, `//`, `;` parameters, escapes
AMBIGUOUS_PATHS = [
    "/immunisationStatus/../me",
    "/immunisationStatus/./../tracker/trackedEntities",
    "/immunisationStatus/%2e%2e/me",
    "/immunisationStatus/%2E%2E/me",
    "/immunisationStatus/.%2e/me",
    "/immunisationStatus%2F..%2Fme",
    "/immunisationStatus%2f%2e%2e%2fme",
    "/immunisationStatus/..%2Fme",
    "/immunisationStatus/..;/me",
    "/immunisationStatus;/../me",
    "/immunisationStatus;jsessionid=x",
    "/immunisationStatus%3F/../me",
    "/immunisationStatus%23/../me",
    "/immunisationStatus%5C..%5Cme",
    "/immunisationStatus%252e%252e/me",
    "/immunisationStatus%00",
    "/immunisationStatus%",
    "//immunisationStatus",
    "/./immunisationStatus",
    "/%2e/immunisationStatus",
    "/me/..//immunisationStatus",
]


async def record_of(base: str, x_road_id: str) -> dict[str, Any]:
    """The exchange's message log record (the writer batches: poll with a deadline)."""
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient(base_url=base, headers=ADMIN) as admin:
        while time.monotonic() < deadline:
            found = await admin.get("/admin/messagelog/records", params={"xRoadId": x_road_id})
            records = found.json().get("records", []) if found.status_code == 200 else []
            if records:
                (record,) = records
                return dict(record)
            await asyncio.sleep(0.05)
    raise AssertionError(f"no message log record for {x_road_id}")


async def assert_refused_and_logged(stack: Stack, x_road_id: str, status: int) -> None:
    record = await record_of(stack.mediator, x_road_id)
    assert record["statusCode"] == status, record
    assert record.get("errorType") and record["outcome"] != "Successful", record
    assert record.get("decisionId") is None and record.get("consentRecordId") is None, record
    assert record["client"] == EDUCATION


async def test_the_immunisation_status_path_works_with_consent(settings_for, monkeypatch):
    with consent_stack(settings_for, monkeypatch) as stack:
        async with httpx.AsyncClient(base_url=stack.mediator) as client:
            answer = await client.get(
                f"{STATUS_SERVICE}/immunisationStatus", headers=about("edu-amina", "ok-1")
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["served"]["path"] == "/api/immunisationStatus"
        assert answer.json()["served"]["subject"] == "hmis-amina"
        record = await record_of(stack.mediator, "ok-1")
        assert record["statusCode"] == 200 and record["decisionId"] and record["consentRecordId"]


@pytest.mark.parametrize("path", OTHER_HEALTH_PATHS)
async def test_other_health_paths_are_refused_and_logged_as_refused(
    settings_for, monkeypatch, path
):
    with consent_stack(settings_for, monkeypatch) as stack:
        async with httpx.AsyncClient(base_url=stack.mediator) as client:
            answer = await client.get(f"{STATUS_SERVICE}{path}", headers=about("edu-amina", "x-1"))
        assert answer.status_code == 500, answer.text
        body = answer.json()
        assert body["type"] == "Server.ServerProxy.UnknownService"
        assert answer.headers["x-road-error"] == body["type"] and body["detail"] == "x-1"
        assert stack.health.state.seen == [] and stack.decider.calls == []
        await assert_refused_and_logged(stack, "x-1", 500)


async def test_path_traversal_variants_are_refused_before_consent(settings_for, monkeypatch):
    with consent_stack(settings_for, monkeypatch) as stack:
        for n, path in enumerate(AMBIGUOUS_PATHS):
            x_road_id = f"trick-{n}"
            status, body = raw_get(
                stack.mediator, f"{STATUS_SERVICE}{path}", about("edu-amina", x_road_id)
            )
            assert status in (400, 500), (path, status, body)
            assert body["type"] in ("Client.BadRequest", "Server.ServerProxy.UnknownService")
            assert body["detail"] == x_road_id, (path, body)
            await assert_refused_and_logged(stack, x_road_id, status)
        assert stack.health.state.seen == [], stack.health.state.seen
        assert stack.decider.calls == []


async def test_the_service_identifier_cannot_hide_a_path(settings_for, monkeypatch):
    with consent_stack(settings_for, monkeypatch) as stack:
        for n, target in enumerate(
            (
                f"{STATUS_SERVICE}%2Fme/immunisationStatus",
                "/r1/DPI/GOV/MOH/hmis%2Fimmunisation-status/me/immunisationStatus",
                "/r1/DPI/GOV/MOH%2Fhmis/immunisation-status/immunisationStatus/x",
            )
        ):
            status, body = raw_get(stack.mediator, target, about("edu-amina", f"id-{n}"))
            assert status == 400 and body["type"] == "Client.BadRequest", (target, body)
            await assert_refused_and_logged(stack, f"id-{n}", 400)
        assert stack.health.state.seen == [] and stack.decider.calls == []


async def test_query_strings_do_not_change_the_path(settings_for, monkeypatch):
    with consent_stack(settings_for, monkeypatch) as stack:
        status, body = raw_get(
            stack.mediator,
            f"{STATUS_SERVICE}/immunisationStatus?next=/../me&path=%2F..%2Fme",
            about("edu-amina", "q-1"),
        )
        assert status == 200, body
        assert [s["path"] for s in stack.health.state.seen] == ["/api/immunisationStatus"]
        status, body = raw_get(
            stack.mediator, f"{STATUS_SERVICE}/me?x=/immunisationStatus", about("edu-amina", "q-2")
        )
        assert status == 500 and len(stack.health.state.seen) == 1
        await assert_refused_and_logged(stack, "q-2", 500)


async def test_a_consent_gated_service_cannot_be_opened_with_a_wildcard(settings_for):
    settings = settings_for("interop_layer", cls=InteropSettings)
    wide = {
        "provider": HEALTH,
        "serviceCode": "pregnancy-status",
        "upstream": "sectoral_platform",
        "pathPrefix": "/api",
        "consentRequired": True,
        "dataCategories": ["pregnancy-status"],
    }
    async with serve_in_process(create_app(settings)) as client:
        for endpoints in (
            [{"method": "GET", "path": "/*"}],
            [{"method": "GET", "path": "/tracker/*"}],
            [{"method": "*", "path": "/pregnancyStatus"}],
            None,  # the default endpoint is `* /*`
        ):
            body = wide if endpoints is None else {**wide, "endpoints": endpoints}
            refused = await client.put("/admin/services", json=body, headers=ADMIN)
            assert refused.status_code == 400, refused.text
            assert refused.json()["type"] == "Client.BadRequest"
        exact = {**wide, "endpoints": [{"method": "GET", "path": "/people/{id}/pregnancyStatus"}]}
        accepted = await client.put("/admin/services", json=exact, headers=ADMIN)
        assert accepted.status_code == 200, accepted.text
        listed = await client.get("/admin/services", params={"provider": HEALTH}, headers=ADMIN)
        assert "pregnancy-status" in {s["serviceCode"] for s in listed.json()}


async def test_a_database_seeded_with_the_wide_entry_is_narrowed(settings_for):
    """Databases seeded before: the directory ignores the wildcard, the upgrade narrows it."""
    settings = settings_for("interop_layer", cls=InteropSettings)
    exact = [{"method": "GET", "path": "/immunisationStatus"}]
    async with serve_in_process(create_app(settings)):
        pass
    engine = create_engine(settings.database())
    try:
        with Session(engine) as session:
            entry = session.get(ServiceEntry, f"{HEALTH}/immunisation-status")
            assert entry is not None and entry.endpoints == exact
            entry.endpoints = [{"method": "GET", "path": "/*"}]  # as the first seed had it
            session.add(entry)
            session.delete(session.get(SeedMarker, EXACT_CONSENT_PATHS))
            session.commit()
            legacy = build_directory(session, secret=settings.sandbox_secret)
        target = legacy.service(HEALTH, "immunisation-status")
        assert target is not None and target.endpoints == ()  # fails closed meanwhile
        assert not target.offers("GET", "/me") and not target.offers("GET", "/immunisationStatus")
        app = create_app(settings)
        async with serve_in_process(app):
            directory = runtime_of(app, InteropRuntime).directory
            upgraded = directory.service(HEALTH, "immunisation-status")
            assert upgraded is not None
            assert [rule.public() for rule in upgraded.endpoints] == exact
        with Session(engine) as session:
            stored = session.get(ServiceEntry, f"{HEALTH}/immunisation-status")
            assert stored is not None and stored.endpoints == exact
    finally:
        engine.dispose()


async def test_control_characters_in_the_service_id_are_refused_and_logged(
    settings_for, monkeypatch
):
    """A NUL decoded from the URL must neither reach a provider nor stall the message log
    (PostgreSQL text cannot hold it: one such record used to block every later one)."""
    with consent_stack(settings_for, monkeypatch) as stack:
        for n, target in enumerate(
            (
                f"{STATUS_SERVICE}%00/immunisationStatus",
                f"/r1/{HEALTH}/immunisation%0Astatus/immunisationStatus",
                f"{STATUS_SERVICE}/immunisationStatus%00",
            )
        ):
            status, body = raw_get(stack.mediator, target, about("edu-amina", f"nul-{n}"))
            assert status == 400 and body["type"] == "Client.BadRequest", (target, body)
            await assert_refused_and_logged(stack, f"nul-{n}", 400)
        async with httpx.AsyncClient(base_url=stack.mediator) as client:
            after = await client.get(
                f"{STATUS_SERVICE}/immunisationStatus", headers=about("edu-amina", "after")
            )
        assert after.status_code == 200
        assert (await record_of(stack.mediator, "after"))["statusCode"] == 200
        assert [s["path"] for s in stack.health.state.seen] == ["/api/immunisationStatus"]


async def test_health_reads_facilities_not_the_civil_register(settings_for, monkeypatch):
    """The seeded `data` right of health is narrowed to the facility registry."""
    with consent_stack(settings_for, monkeypatch) as stack:
        data = "/r1/DPI/GOV/CRVS/registries/data"
        async with httpx.AsyncClient(base_url=stack.mediator) as client:
            for method, path in (
                ("GET", "/births/1.0"),
                ("POST", "/births/1.0/read"),
                ("GET", "/deaths/1.0"),
                ("POST", "/facilities/1.0/create"),
                ("DELETE", "/facilities/1.0/F1/delete"),
            ):
                answer = await client.request(
                    method, f"{data}{path}", headers=client_headers(HEALTH)
                )
                assert answer.status_code == 500, (method, path, answer.text)
                assert answer.json()["type"] == "Server.ServerProxy.AccessDenied"
            allowed = await client.get(
                "/r1/DPI/GOV/CRVS/registries/allowedMethods",
                params={"serviceId": "data"},
                headers=client_headers(HEALTH),
            )
        [service] = allowed.json()["service"]
        assert service["endpoint_list"] == [{"method": "GET", "path": "/facilities/*"}]
