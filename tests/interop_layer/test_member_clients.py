"""Member-level clients (`X-Road-Client: INSTANCE/CLASS/MEMBER`, PR-REST 4.1): own key, rights."""

from __future__ import annotations

import pytest

from services.kernel.credentials import client_key
from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

MOH = "DPI/GOV/MOH"  # the member of the HEALTH subsystem
MOE = EDUCATION.rsplit("/", 1)[0]
ECHO = f"/r1/{REGISTRIES}/echo"


async def test_a_member_calls_with_its_own_key_and_rights(shared_mediator, provider):
    _, client = shared_mediator
    denied = await client.get(f"{ECHO}/x", headers=client_headers(MOH))
    assert denied.status_code == 500  # HEALTH's right is the subsystem's, not the member's
    assert denied.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    right = {"client": MOH, "provider": REGISTRIES, "serviceCode": "echo"}
    granted = await client.post("/admin/rights", json=right, headers=ADMIN)
    assert granted.status_code in (200, 201), granted.text
    try:
        response = await client.get(f"{ECHO}/x", headers=client_headers(MOH))
        assert response.status_code == 200
        assert response.json()["headers"]["x-road-client"] == MOH
        assert response.headers["x-road-client"] == MOH
        # the member's right is not its subsystems', nor is a subsystem's key the member's
        raw = await client.get(f"/r1/{REGISTRIES}/raw/x", headers=client_headers(MOH))
        assert raw.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
        wrong = {"X-Road-Client": MOH, "X-DPI-Client-Key": client_key(HEALTH)}
        refused = await client.get(f"{ECHO}/x", headers=wrong)
        assert refused.headers["x-road-error"] == "Server.ClientProxy.SslAuthenticationFailed"
        listed = await client.get(f"/r1/{REGISTRIES}/allowedMethods", headers=client_headers(MOH))
        assert [s["service_code"] for s in listed.json()["service"]] == ["echo"]
    finally:
        gone = await client.delete(f"/admin/rights/{granted.json()['id']}", headers=ADMIN)
        assert gone.status_code == 204


async def test_member_rights_are_checked_when_granted(shared_mediator):
    _, client = shared_mediator
    unknown = {"client": "DPI/GOV/NOBODY", "provider": REGISTRIES, "serviceCode": "echo"}
    missing = await client.post("/admin/rights", json=unknown, headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["type"] == "Server.ClientProxy.UnknownMember"
    room = {"client": MOE, "provider": REGISTRIES, "serviceCode": "sub"}
    refused = await client.post("/admin/rights", json=room, headers=ADMIN)
    assert refused.status_code == 400 and "subsystems" in refused.json()["message"]
    rights = (await client.get("/admin/rights", headers=ADMIN)).json()
    assert not any(r["client"] in ("DPI/GOV/NOBODY", MOE) for r in rights)


async def test_a_member_cannot_ask_about_a_person(shared_mediator):
    _, client = shared_mediator
    right = {"client": MOE, "provider": HEALTH, "serviceCode": "immunisation-status"}
    granted = await client.post("/admin/rights", json=right, headers=ADMIN)
    try:
        headers = client_headers(
            MOE, **{"X-DPI-Subject": "amina", "X-DPI-Purpose": "school-enrolment"}
        )
        response = await client.get(
            f"/r1/{HEALTH}/immunisation-status/people/status", headers=headers
        )
        assert response.status_code == 500
        assert response.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
        assert "subsystem" in response.json()["message"]
    finally:
        await client.delete(f"/admin/rights/{granted.json()['id']}", headers=ADMIN)
