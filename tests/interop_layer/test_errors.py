"""Mediator errors: X-Road shape, `X-Road-Error` header, status per cause; nothing forwarded."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest

from services.interop_layer.runtime import InteropRuntime
from services.kernel.credentials import client_key
from services.kernel.runtime import runtime_of
from tests.interop_layer.support import (
    ADMIN,
    EDUCATION,
    HEALTH,
    REGISTRIES,
    TRACEBACK,
    client_headers,
)

pytestmark = pytest.mark.anyio

ECHO = f"/r1/{REGISTRIES}/echo"
BAD, SSL = "Client.BadRequest", "Server.ClientProxy.SslAuthenticationFailed"
DENIED, UNKNOWN = "Server.ServerProxy.AccessDenied", "Server.ServerProxy.UnknownService"


def assert_mediator_error(response, status: int, kind: str) -> dict[str, Any]:
    """PR-REST 4.6: the status, `X-Road-Error`, a JSON body of exactly type, message, detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["type"] == kind
    assert response.headers["x-road-error"] == kind
    assert body["detail"] == response.headers["x-road-id"]
    assert body["message"]
    return dict(body)


ROGUE = "DPI/GOV/XXX/nobody"
SPOOF = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(EDUCATION)}
# (what, client headers, path, method, status, X-Road-Error) after PR-REST 4.6: category 3 (the
# request breaks the protocol) is 400 `Client.*`; X-Road's own faults (4) and a provider it cannot
# get an answer from (2) are 500 `Server.ClientProxy.*` (consumer side) `Server.ServerProxy.*`.
H, E = client_headers(HEALTH), client_headers(EDUCATION)
NO_HEADER = {"X-DPI-Client-Key": client_key(HEALTH)}
MALFORMED = {"X-Road-Client": "DPI/GOV", "X-DPI-Client-Key": "k"}
TWO = {**H, "Information-Mediator-Client": EDUCATION}
NO_KEY, BAD_KEY = {"X-Road-Client": HEALTH}, {"X-Road-Client": HEALTH, "X-DPI-Client-Key": "k"}
NET, FAILED = "Server.ServerProxy.NetworkError", "Server.ServerProxy.ServiceFailed"
CASES = [
    ("no client header", NO_HEADER, ECHO, "GET", 400, BAD),
    ("malformed client", MALFORMED, ECHO, "GET", 400, BAD),
    ("bad X-Road-Id", client_headers(HEALTH, **{"X-Road-Id": "a b"}), ECHO, "GET", 400, BAD),
    ("two clients", TWO, ECHO, "GET", 400, BAD),
    ("bad service id", H, "/r1/DPI/GOV/M%20M/s/echo", "GET", 400, BAD),
    ("bad service code", H, f"/r1/{REGISTRIES}/%24x", "GET", 400, BAD),
    ("unknown method", H, ECHO, "PROPFIND", 400, BAD),
    ("no key", NO_KEY, ECHO, "GET", 500, SSL),
    ("unknown key", BAD_KEY, ECHO, "GET", 500, SSL),
    ("another's key", SPOOF, ECHO, "GET", 500, SSL),
    ("unregistered", client_headers(ROGUE), ECHO, "GET", 500, "Server.ClientProxy.UnknownMember"),
    ("no access right", E, f"/r1/{REGISTRIES}/raw", "GET", 500, DENIED),
    ("path not granted", E, f"{ECHO}/private/1", "GET", 500, DENIED),
    ("method not granted", E, f"{ECHO}/public/1", "POST", 500, DENIED),
    ("unknown service", H, f"/r1/{REGISTRIES}/nothing", "GET", 500, UNKNOWN),
    ("unknown provider", H, "/r1/DPI/GOV/XXX/none/echo", "GET", 500, UNKNOWN),
    ("provider down", H, f"/r1/{REGISTRIES}/down", "GET", 500, NET),
    ("provider silent", H, f"/r1/{REGISTRIES}/raw/hang", "GET", 500, FAILED),
]


@pytest.mark.parametrize(
    ("headers", "path", "method", "status", "kind"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_every_mediator_fault_per_pr_rest(
    shared_mediator, provider, headers, path, method, status, kind
):
    _, client = shared_mediator
    before = len(provider[0].state.seen)
    target = path if path.count("/") > 6 else f"{path}/x"
    response = await client.request(method, target, headers=headers)
    assert_mediator_error(response, status, kind)
    assert set(response.json()) == {"type", "message", "detail"}
    assert len(provider[0].state.seen) == before  # nothing reached the echo provider


async def test_errors_in_xml_when_the_client_accepts_xml(shared_mediator):
    _, client = shared_mediator
    for accept, media in [("application/xml", "application/xml"), ("text/*;q=0.5", "text/xml")]:
        headers = {"X-Road-Client": HEALTH, "Accept": f"application/json;q=0.1, {accept}"}
        response = await client.get(f"{ECHO}/x", headers=headers)
        assert response.status_code == 500
        assert response.headers["content-type"] == f"{media}; charset=utf-8"
        root = ElementTree.fromstring(response.content)
        assert root.tag == "error" and [e.tag for e in root] == ["type", "message", "detail"]
        assert root.findtext("type") == SSL == response.headers["x-road-error"]
        assert root.findtext("detail") == response.headers["x-road-id"]


async def test_the_spoofing_message_names_both_clients(shared_mediator):
    _, client = shared_mediator
    body = (await client.get(f"{ECHO}/x", headers=SPOOF)).json()
    assert HEALTH in body["message"] and EDUCATION in body["message"]
    alias = {"X-GovStack-Client": HEALTH, "X-DPI-Client-Key": client_key(EDUCATION)}
    assert_mediator_error(await client.get(f"{ECHO}/x", headers=alias), 500, SSL)


@pytest.mark.parametrize("alias", ["X-GovStack-Client", "Information-Mediator-Client"])
async def test_govstack_aliases_authenticate(shared_mediator, alias):
    _, client = shared_mediator
    headers = {alias: HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    response = await client.get(f"{ECHO}/x", headers=headers)
    assert response.status_code == 200
    assert response.json()["headers"]["x-road-client"] == HEALTH


async def test_a_narrowed_right_still_allows_its_endpoints(shared_mediator):
    _, client = shared_mediator
    allowed = await client.get(f"{ECHO}/public/1", headers=client_headers(EDUCATION))
    assert allowed.status_code == 200


async def test_provider_errors_are_the_providers_and_never_leak_into_mediator_errors(
    shared_mediator,
):
    _, client = shared_mediator
    crash = await client.get(f"/r1/{REGISTRIES}/raw/crash", headers=client_headers(HEALTH))
    assert crash.status_code == 500 and crash.text == TRACEBACK  # category 1: as-is
    assert "x-road-error" not in crash.headers
    hang = await client.get(f"/r1/{REGISTRIES}/raw/hang", headers=client_headers(HEALTH))
    assert "in time" in hang.json()["message"] and "Traceback" not in hang.text


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
    body = assert_mediator_error(response, 500, "Server.ServerProxy.InternalError")
    assert "RuntimeError" not in body["message"]
    assert len(provider[0].state.seen) == before
    logged = await client.get("/admin/messagelog/records?xRoadId=bug-1", headers=ADMIN)
    (record,) = logged.json()["records"]
    assert record["statusCode"] == 500 and record["outcome"] == "Failed"


async def test_a_body_call_is_refused_from_its_headers_in_pr_rest_shape(shared_mediator):
    _, client = shared_mediator
    url = f"/r1/{REGISTRIES}/pub/v1/birth-registered"
    refused = await client.post(url, json={"civilRegistrationId": "1"}, headers=NO_KEY)
    assert_mediator_error(refused, 500, SSL)
    malformed = await client.post(url, json={}, headers=MALFORMED)
    assert_mediator_error(malformed, 400, BAD)
