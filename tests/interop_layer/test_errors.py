"""Mediator errors: X-Road shape, `X-Road-Error` header, status per cause; nothing forwarded."""

from __future__ import annotations

from typing import Any

import pytest

from services.interop_layer.runtime import InteropRuntime
from services.kernel.credentials import client_key
from services.kernel.runtime import runtime_of
from tests.interop_layer.support import ADMIN, EDUCATION, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

ECHO = f"/r1/{REGISTRIES}/echo"


def assert_mediator_error(response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == kind
    assert response.headers["x-road-error"] == kind
    assert body["detail"] == response.headers["x-road-id"]
    assert body["message"]
    return dict(body)


async def test_missing_or_malformed_client_header(shared_mediator, provider):
    _, client = shared_mediator
    before = len(provider[0].state.seen)
    missing = await client.get(f"{ECHO}/x", headers={"X-DPI-Client-Key": client_key(HEALTH)})
    assert_mediator_error(missing, 400, "Client.BadRequest")
    malformed = await client.get(
        f"{ECHO}/x", headers={"X-Road-Client": "DPI/GOV/MOH", "X-DPI-Client-Key": "k"}
    )
    assert_mediator_error(malformed, 400, "Client.BadRequest")
    bad_id = await client.get(f"{ECHO}/x", headers=client_headers(HEALTH, **{"X-Road-Id": "a b"}))
    assert_mediator_error(bad_id, 400, "Client.BadRequest")
    assert len(provider[0].state.seen) == before


async def test_unknown_client(shared_mediator):
    _, client = shared_mediator
    no_key = await client.get(f"{ECHO}/x", headers={"X-Road-Client": HEALTH})
    assert_mediator_error(no_key, 403, "Server.ClientProxy.unknown_member")
    wrong_key = await client.get(
        f"{ECHO}/x", headers={"X-Road-Client": HEALTH, "X-DPI-Client-Key": "not-a-key"}
    )
    assert_mediator_error(wrong_key, 403, "Server.ClientProxy.unknown_member")
    stranger = "DPI/GOV/XXX/nobody"
    unregistered = await client.get(f"{ECHO}/x", headers=client_headers(stranger))
    assert_mediator_error(unregistered, 403, "Server.ClientProxy.unknown_member")


async def test_spoofed_client_header(shared_mediator, provider):
    _, client = shared_mediator
    before = len(provider[0].state.seen)
    spoofed = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(EDUCATION)}
    body = assert_mediator_error(
        await client.get(f"{ECHO}/x", headers=spoofed), 403, "Server.ClientProxy.access_denied"
    )
    assert HEALTH in body["message"] and EDUCATION in body["message"]
    alias = {"X-GovStack-Client": HEALTH, "X-DPI-Client-Key": client_key(EDUCATION)}
    assert_mediator_error(
        await client.get(f"{ECHO}/x", headers=alias), 403, "Server.ClientProxy.access_denied"
    )
    both = {**client_headers(HEALTH), "Information-Mediator-Client": EDUCATION}
    assert_mediator_error(await client.get(f"{ECHO}/x", headers=both), 400, "Client.BadRequest")
    assert len(provider[0].state.seen) == before


@pytest.mark.parametrize("alias", ["X-GovStack-Client", "Information-Mediator-Client"])
async def test_govstack_aliases_authenticate(shared_mediator, alias):
    _, client = shared_mediator
    headers = {alias: HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    response = await client.get(f"{ECHO}/x", headers=headers)
    assert response.status_code == 200
    assert response.json()["headers"]["x-road-client"] == HEALTH


async def test_no_access_right_and_narrowed_rights(shared_mediator, provider):
    _, client = shared_mediator
    before = len(provider[0].state.seen)
    # Education may only GET /public/* of the echo service.
    denied = await client.get(f"{ECHO}/private/1", headers=client_headers(EDUCATION))
    assert_mediator_error(denied, 403, "Server.ServerProxy.access_denied")
    wrong_method = await client.post(f"{ECHO}/public/1", headers=client_headers(EDUCATION))
    assert_mediator_error(wrong_method, 403, "Server.ServerProxy.access_denied")
    no_right = await client.get(f"/r1/{REGISTRIES}/raw/fail", headers=client_headers(EDUCATION))
    assert_mediator_error(no_right, 403, "Server.ServerProxy.access_denied")
    assert len(provider[0].state.seen) == before
    allowed = await client.get(f"{ECHO}/public/1", headers=client_headers(EDUCATION))
    assert allowed.status_code == 200


async def test_unknown_service(shared_mediator):
    _, client = shared_mediator
    unknown = await client.get(f"/r1/{REGISTRIES}/nothing/x", headers=client_headers(HEALTH))
    assert_mediator_error(unknown, 404, "Server.ServerProxy.unknown_service")
    nobody = await client.get("/r1/DPI/GOV/XXX/none/echo/x", headers=client_headers(HEALTH))
    assert_mediator_error(nobody, 404, "Server.ServerProxy.unknown_service")
    bad_id = await client.get("/r1/DPI/GOV/M%20M/s/echo/x", headers=client_headers(HEALTH))
    assert_mediator_error(bad_id, 400, "Client.BadRequest")


async def test_provider_down_is_502(shared_mediator):
    _, client = shared_mediator
    response = await client.get(f"/r1/{REGISTRIES}/down/x", headers=client_headers(HEALTH))
    assert_mediator_error(response, 502, "Server.ServerProxy.network_error")


async def test_provider_timeout_is_504(shared_mediator):
    _, client = shared_mediator
    response = await client.get(f"/r1/{REGISTRIES}/raw/hang", headers=client_headers(HEALTH))
    body = assert_mediator_error(response, 504, "Server.ServerProxy.service_timeout")
    assert "in time" in body["message"]


async def test_admin_endpoints_need_the_admin_key_and_validate(shared_mediator):
    _, client = shared_mediator
    unauthorised = await client.get("/admin/rights")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["x-road-error"]
    invalid = await client.post(
        "/admin/rights", json={"client": HEALTH}, headers={"X-DPI-Admin-Key": "dpi-admin"}
    )
    assert_mediator_error(invalid, 400, "Client.BadRequest")
    assert invalid.json()["errors"]


class BrokenExchanger:
    async def exchange(self, **_: object) -> dict[str, str]:
        raise RuntimeError("a bug, not a refusal")


async def test_an_unexpected_error_is_an_x_road_500_and_logged(shared_mediator, provider):
    app, client = shared_mediator
    before = len(provider[0].state.seen)
    runtime = runtime_of(app, InteropRuntime)
    kept, runtime.token_exchanger = runtime.token_exchanger, BrokenExchanger()
    try:
        headers = client_headers(HEALTH, **{"X-DPI-Subject": "t", "X-Road-Id": "bug-1"})
        response = await client.get(f"{ECHO}/x", headers=headers)
    finally:
        runtime.token_exchanger = kept
    body = assert_mediator_error(response, 500, "Server.ServerProxy.internal_error")
    assert "RuntimeError" not in body["message"]
    assert len(provider[0].state.seen) == before
    logged = await client.get("/admin/messagelog/records?xRoadId=bug-1", headers=ADMIN)
    (record,) = logged.json()["records"]
    assert record["statusCode"] == 500 and record["outcome"] == "Failed"
