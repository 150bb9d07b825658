"""Events across the real mediator: birth-registered in (PUSH), immunisation-recorded out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.kernel.credentials import client_key, mediator_key
from services.kernel.testing import serve_on_loopback
from services.sectoral_platform.main import create_app
from services.sectoral_platform.seed.orgunits import uid_for
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, QUIET
from tests.sectoral_platform.tracker_helpers import IMMUNISATION, MEASLES, sync_import
from tests.sectoral_platform.wiring import ID_ADMIN, dpi
from tests.support.polling import until

pytestmark = pytest.mark.anyio
HEALTH = "DPI/GOV/MOH/hmis"
HEALTH_HEADERS = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
CRVS = "DPI/GOV/CRVS/registries"  # the registrar registers births directly, as the key's owner
REGISTRY = {"Authorization": "dpi-registries-sandbox-key", "Information-Mediator-Client": CRVS}


async def test_birth_in_and_immunisation_out(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {**QUIET, "subscribe_civil_events": True, "facility_sync_retry_seconds": 0.2}
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **options)
    with (
        serve_on_loopback(create_app(settings)) as platform_url,
        dpi(settings_for, monkeypatch, registries=True, platform_url=platform_url) as services,
    ):
        async with (
            httpx.AsyncClient(base_url=platform_url, auth=ADMIN) as platform,
            httpx.AsyncClient(base_url=services.interop_layer, headers=HEALTH_HEADERS) as mediator,
            httpx.AsyncClient(base_url=str(services.registries), headers=REGISTRY) as registry,
        ):

            async def subscribed() -> bool:
                subs = await mediator.get("/r1/DPI/GOV/CRVS/registries/api/v1/subs")
                return subs.status_code == 200 and "birth-registered" in subs.text

            await until(subscribed, "the platform's birth-registered subscription")
            birth = {"child": {"givenName": "Nala", "familyName": "Okello", "sex": "female",
                               "dateOfBirth": "2026-11-01", "placeOfBirth": "XD-R01-D01-F002"},
                     "mother": {"givenName": "Asha", "familyName": "Okello"}}  # fmt: skip
            created = await registry.post(
                "/data/births/1.0/create", json={"write": {"content": birth}}
            )
            assert created.status_code in (200, 201), created.text
            record = created.json()["content"]["id"]

            async def registered() -> list[dict[str, Any]]:
                found = await platform.get(
                    "/api/tracker/trackedEntities",
                    params={"program": "IpHINAT79UW", "orgUnitMode": "ALL",
                            "filter": f"CrvsBirthId:eq:{record}", "fields": "*,enrollments"},
                )  # fmt: skip
                entities: list[dict[str, Any]] = found.json()["trackedEntities"]
                return entities

            [newborn] = await until(registered, "the newborn pre-registered from the event")
            assert newborn["orgUnit"] == uid_for("XD-R01-D01-F002")
            names = {a["displayName"]: a["value"] for a in newborn["attributes"]}
            assert names["First name"] == "Nala" and names["Sex"] == "Female"
            enrollment = newborn["enrollments"][0]
            assert enrollment["enrolledAt"] == "2026-11-01T00:00:00.000"
            # a dose recorded: the outbox keeps it while the mediator refuses (pub right revoked)
            seeded = await mediator.get(
                "/admin/rights", params={"client": HEALTH, "provider": HEALTH}, headers=ID_ADMIN
            )
            for right in seeded.json():
                if right["serviceCode"] == "pub":
                    gone = await mediator.delete(f"/admin/rights/{right['id']}", headers=ID_ADMIN)
                    assert gone.status_code == 204, gone.text
            dose = {"enrollment": enrollment["enrollment"], "programStage": IMMUNISATION,
                    "orgUnit": newborn["orgUnit"], "occurredAt": "2026-11-20",
                    "status": "COMPLETED",
                    "dataValues": [{"dataElement": MEASLES, "value": "true"}]}  # fmt: skip
            await sync_import(platform, {"events": [dose]})
            refused = (await platform.post("/api/events/outbox/drain")).json()
            assert refused == {"published": 0, "pending": 1}
            grant = {"client": HEALTH, "provider": HEALTH, "serviceCode": "pub"}
            granted = await mediator.post("/admin/rights", json=grant, headers=ID_ADMIN)
            assert granted.status_code in (200, 201), granted.text
            sent = (await platform.post("/api/events/outbox/drain")).json()
            assert sent == {"published": 1, "pending": 0}
            [row] = (await platform.get("/api/events/outbox")).json()["events"]
            published = await mediator.get(
                f"/r1/{HEALTH}/pub/v1/immunisation-recorded/{row['published_id']}"
            )
            assert published.status_code == 200, published.text
            event = published.json()["event"]
            assert event["vaccines"] == ["Measles"] and event["orgUnit"] == newborn["orgUnit"]
            assert "trackedEntity" not in event and record not in published.text
            # a repeated delivery of the same birth changes nothing
            again = await platform.post(
                "/api/civilRegistration/events",
                json={"id": "x", "eventType": "birth-registered",
                      "event": {"civilRegistrationId": record, "child": birth["child"]}},
                headers={"X-DPI-Mediator-Key": mediator_key()},
            )  # fmt: skip
            assert again.json()["outcome"] == "already-registered"
            stranger = await platform.post("/api/civilRegistration/events", json={})
            assert stranger.status_code == 401
