"""Registration with the ID system through the mediator: PSUT only, outage and recovery."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from services.kernel.testing import serve_in_process
from services.sectoral_platform.main import create_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import ADMIN, FACILITIES, QUIET
from tests.sectoral_platform.tracker_helpers import DOB, FIRST_NAME, TOKEN
from tests.sectoral_platform.wiring import ID_ADMIN, dead_url, dpi

pytestmark = pytest.mark.anyio


def demographics(person: dict[str, Any]) -> dict[str, Any]:
    identity = person["identity"]
    return {"name": identity["fullName"], "dob": identity["dateOfBirth"]}


def attributes(te: dict[str, Any]) -> dict[str, str]:
    return {a["attribute"]: a["value"] for a in te["attributes"]}


def scan(url: str, secrets: list[str]) -> list[str]:
    """Every text value of every table of the platform's database that contains a secret."""
    engine = create_engine(url)
    found = []
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    blob = " ".join(str(v) for v in row)
                    found += [f"{table}: {s}" for s in secrets if s in blob]
    finally:
        engine.dispose()
    return found


async def test_registration_keeps_only_the_token_and_survives_an_outage(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    with dpi(settings_for, monkeypatch) as services:
        async with httpx.AsyncClient(base_url=services.id_registry, headers=ID_ADMIN) as ids:
            people = (await ids.get("/v1/identities", params={"limit": 3})).json()
            people = people.get("identities", people) if isinstance(people, dict) else people
            first, second, third = people[:3]
            vid = (
                await ids.post(
                    "/idrepository/v1/vid",
                    json={"request": {"UIN": first["UIN"], "vidType": "PERPETUAL"}},
                )
            ).json()["response"]["VID"]
        async with serve_in_process(create_app(settings)) as platform:
            platform.auth = ADMIN
            body = {"individualId": first["UIN"], "demographics": demographics(first),
                    "orgUnit": FACILITIES[0]}  # fmt: skip
            created = await platform.post("/api/identity/registrations", json=body)
            assert created.status_code == 201, created.text
            te = created.json()["trackedEntity"]
            assert created.json()["status"] == "VERIFIED"
            stored = (await platform.get(f"/api/tracker/trackedEntities/{te}")).json()
            values = attributes(stored)
            assert values[TOKEN] and values[TOKEN] not in (first["UIN"], vid)
            assert values[DOB] == first["identity"]["dateOfBirth"].replace("/", "-")
            assert values[FIRST_NAME] == first["identity"]["givenName"][0]["value"]
            enrolled = await platform.get(
                "/api/tracker/enrollments", params={"trackedEntity": te, "orgUnitMode": "ALL"}
            )
            assert len(enrolled.json()["enrollments"]) == 1
            # the same person again, now by VID: the same token, the same record
            by_vid = {**body, "individualId": vid, "individualIdType": "VID"}
            again = await platform.post("/api/identity/registrations", json=by_vid)
            assert again.status_code == 200 and again.json()["trackedEntity"] == te
            # a worker elsewhere: neither the record's uid nor a registration outside its scope
            role = await platform.post("/api/userRoles", json={
                "name": "Registrar", "authorities": ["F_TRACKED_ENTITY_INSTANCE_ADD"]})  # fmt: skip
            await platform.post("/api/users", json={
                "username": "far_worker", "firstName": "Far", "surname": "Worker",
                "password": "Secret123!", "userRoles": [{"id": role.json()["response"]["uid"]}],
                "organisationUnits": [{"id": FACILITIES[3]}]})  # fmt: skip
            far = ("far_worker", "Secret123!")
            elsewhere = {**by_vid, "orgUnit": FACILITIES[3]}
            hidden = await platform.post("/api/identity/registrations", json=elsewhere, auth=far)
            assert hidden.status_code == 409 and hidden.json()["errorCode"] == "E1064"
            assert te not in hidden.text
            outside = await platform.post("/api/identity/registrations", json=by_vid, auth=far)
            assert outside.status_code == 409 and outside.json()["errorCode"] == "E1000"
            # wrong demographics: refused by the ID system, nothing stored
            wrong = {**body, "individualId": second["UIN"]}
            refused = await platform.post("/api/identity/registrations", json=wrong)
            assert refused.status_code == 409 and refused.json()["errorCode"] == "IDA-DEA-001"
            # the ID system unreachable: the registration waits, sealed
            monkeypatch.setenv("DPI_INTEROP_LAYER_URL", dead_url())
            offline = {"individualId": third["UIN"], "demographics": demographics(third),
                       "orgUnit": FACILITIES[1],
                       "attributes": [{"attribute": FIRST_NAME, "value": "Baby"},
                                      {"attribute": DOB, "value": "2025-01-01"}]}  # fmt: skip
            pending = await platform.post("/api/identity/registrations", json=offline)
            assert pending.status_code == 202 and pending.json()["status"] == "PENDING_VERIFICATION"
            waiting = pending.json()["trackedEntity"]
            state = (await platform.get(f"/api/identity/registrations/{waiting}")).json()
            assert state["status"] == "PENDING_VERIFICATION"
            assert scan(settings.database(), [third["UIN"]]) == []  # sealed, not plain
            still = (await platform.post("/api/identity/verifications/run")).json()
            assert still == {"verified": 0, "refused": 0, "pending": 1}
            monkeypatch.setenv("DPI_INTEROP_LAYER_URL", services.interop_layer)
            done = (await platform.post("/api/identity/verifications/run")).json()
            assert done == {"verified": 1, "refused": 0, "pending": 0}
            verified = attributes(
                (await platform.get(f"/api/tracker/trackedEntities/{waiting}")).json()
            )
            assert (
                verified[TOKEN]
                and verified[FIRST_NAME] == third["identity"]["givenName"][0]["value"]
            )
            state = (await platform.get(f"/api/identity/registrations/{waiting}")).json()
            assert state["status"] == "VERIFIED"
        identifiers = [p["UIN"] for p in people] + [vid]
        assert scan(settings.database(), identifiers) == []
        engine = create_engine(settings.database())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pending_verification")).scalar() == 0
        engine.dispose()


async def test_bad_registrations_are_400(shared_client: httpx.AsyncClient) -> None:
    bodies: list[Any] = [
        {},
        {"individualId": "1"},
        {"individualId": "x", "individualIdType": "NIN", "orgUnit": "a"},
        [],
    ]
    for body in bodies:
        response = await shared_client.post("/api/identity/registrations", json=body)
        assert response.status_code == 400, body
    missing = await shared_client.get("/api/identity/registrations/Unknown0001")
    assert missing.status_code == 404


async def test_registration_uses_encrypted_signed_envelopes(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With plaintext refused for `moh-hmis`, registration still works: the platform encrypts,
    signs, checks the ID system's response-signature and decrypts the eKYC identity."""
    settings: SectoralSettings = settings_for("sectoral_platform", cls=SectoralSettings, **QUIET)
    with dpi(settings_for, monkeypatch) as services:
        async with httpx.AsyncClient(base_url=services.id_registry, headers=ID_ADMIN) as ids:
            person = (await ids.get("/v1/identities", params={"limit": 1})).json()[0]
            policy = (await ids.get("/v1/partners/moh-hmis")).json()["policy"]
            policy["allowPlaintextRequests"] = False
            patched = await ids.patch("/v1/partners/moh-hmis", json={"policy": policy})
            assert patched.status_code == 200, patched.text
        async with serve_in_process(create_app(settings)) as platform:
            platform.auth = ADMIN
            body = {"individualId": person["UIN"], "demographics": demographics(person),
                    "orgUnit": FACILITIES[0]}  # fmt: skip
            created = await platform.post("/api/identity/registrations", json=body)
            assert created.status_code == 201, created.text
            values = attributes(
                (
                    await platform.get(
                        f"/api/tracker/trackedEntities/{created.json()['trackedEntity']}"
                    )
                ).json()
            )
            assert values[FIRST_NAME] == person["identity"]["givenName"][0]["value"]
        plain = settings.model_copy(update={"ida_sealed": False})
        async with serve_in_process(create_app(plain)) as platform:
            platform.auth = ADMIN
            refused = await platform.post(
                "/api/identity/registrations",
                json={**body, "individualId": person["UIN"]},
            )
            assert "IDA-MLC-006" in refused.text, refused.text
