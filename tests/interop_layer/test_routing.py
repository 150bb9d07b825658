"""r1 routing: every method with bodies and query strings, headers both ways, streaming."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator

import pytest

from services.interop_layer.routing.upstream import BrokenOff
from services.interop_layer.runtime import InteropRuntime
from services.kernel.credentials import DEFAULT_SECRET, mediator_key
from services.kernel.runtime import runtime_of
from services.kernel.tracing import parse_traceparent
from tests.interop_layer.support import ADMIN, HEALTH, REGISTRIES, client_headers

pytestmark = pytest.mark.anyio

BASE = f"/r1/{REGISTRIES}/echo"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_every_method_is_forwarded_with_body_and_query(shared_mediator, method):
    _, client = shared_mediator
    body = json.dumps({"method": method, "n": [1, 2]}).encode()
    response = await client.request(
        method,
        f"{BASE}/items/7?b=2&a=1&a=%20x",
        content=body,
        headers=client_headers(HEALTH, **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["method"] == method
    assert seen["path"] == "/echo/items/7"
    assert seen["query"] == "b=2&a=1&a=%20x"
    assert json.loads(seen["body"]) == {"method": method, "n": [1, 2]}
    assert seen["headers"]["content-type"] == "application/json"
    assert response.headers["x-provider"] == "yes"


async def test_x_road_headers_on_request_and_response(shared_mediator):
    _, client = shared_mediator
    headers = client_headers(
        HEALTH,
        **{
            "X-Road-Id": "my-exchange-1",
            "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
            "Authorization": "ApiKey provider-secret",
            "X-Road-UserId": "EE12345678901",
            "X-DPI-Mediator-Key": "forged-by-the-client",
            "X-DPI-Admin-Key": "an-admin-key",
        },
    )
    response = await client.post(f"{BASE}/x?q=1", content=b"payload", headers=headers)
    assert response.status_code == 200
    seen = response.json()["headers"]
    # The mediator's own credential never reaches the provider; the provider's auth does.
    assert "x-dpi-client-key" not in seen
    # Nor does an admin key: admin endpoints are called directly, never through the mediator.
    assert "x-dpi-admin-key" not in seen
    # The provider can tell a mediated call: the mediator's key, never the client's forgery.
    assert seen["x-dpi-mediator-key"] == mediator_key(DEFAULT_SECRET)
    assert seen["authorization"] == "ApiKey provider-secret"
    assert seen["x-road-client"] == HEALTH
    assert seen["information-mediator-client"] == HEALTH
    assert seen["x-road-id"] == "my-exchange-1"
    assert seen["x-road-userid"] == "EE12345678901"
    forwarded = parse_traceparent(seen["traceparent"])
    assert forwarded is not None and forwarded.trace_id == TRACE
    assert forwarded.span_id != "00f067aa0ba902b7"

    assert response.headers["x-road-id"] == "my-exchange-1"
    assert response.headers["x-road-client"] == HEALTH
    assert response.headers["x-road-service"] == f"{REGISTRIES}/echo"
    assert len(response.headers["x-road-request-id"]) == 36
    head, body = hashlib.sha512(b"POST /x?q=1\n").digest(), hashlib.sha512(b"payload").digest()
    expected = hashlib.sha512(head + body).digest()  # PR-REST 4.3
    assert base64.b64decode(response.headers["x-road-request-hash"]) == expected
    assert parse_traceparent(response.headers["traceparent"]).trace_id == TRACE  # type: ignore[union-attr]


async def test_the_request_hash_of_a_call_without_body_is_of_its_headers(shared_mediator):
    _, client = shared_mediator
    response = await client.get(f"{BASE}/x?q=2", headers=client_headers(HEALTH))
    expected = hashlib.sha512(b"GET /x?q=2\n").digest()  # PR-REST 4.3: SHA512(headers)
    assert base64.b64decode(response.headers["x-road-request-hash"]) == expected


async def test_a_generated_x_road_id_is_unique_per_exchange(shared_mediator):
    _, client = shared_mediator
    ids = set()
    for _ in range(3):
        response = await client.get(f"{BASE}/x", headers=client_headers(HEALTH))
        ids.add(response.headers["x-road-id"])
        assert response.json()["headers"]["x-road-id"] == response.headers["x-road-id"]
    assert len(ids) == 3


async def test_provider_errors_pass_through_untouched(shared_mediator):
    _, client = shared_mediator
    response = await client.get(f"/r1/{REGISTRIES}/raw/fail", headers=client_headers(HEALTH))
    assert response.status_code == 409
    assert response.json() == {"httpStatus": "Conflict", "message": "provider says no"}
    assert "x-road-error" not in response.headers


async def test_large_bodies_stream_both_ways(shared_mediator):
    _, client = shared_mediator
    size = 1_000_003
    response = await client.get(
        f"/r1/{REGISTRIES}/raw/big?size={size}", headers=client_headers(HEALTH)
    )
    assert response.status_code == 200 and len(response.content) == size

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 50_000

    upload = await client.post(
        f"/r1/{REGISTRIES}/raw/upload", content=chunks(), headers=client_headers(HEALTH)
    )
    assert upload.status_code == 200 and upload.json() == {"received": 1_000_000}
    sized = await client.post(
        f"{BASE}/sized", content=b"z" * 300_000, headers=client_headers(HEALTH)
    )
    assert sized.status_code == 200
    seen = sized.json()
    assert len(seen["body"]) == 300_000 and seen["headers"]["content-length"] == "300000"
    assert "transfer-encoding" not in seen["headers"]


async def test_a_provider_breaking_off_mid_answer(shared_mediator):
    app, client = shared_mediator
    headers = client_headers(HEALTH, **{"X-Road-Id": "broken-answer-1"})
    with pytest.raises(BrokenOff):  # the headers were out: the client sees the answer end short
        await client.get(f"/r1/{REGISTRIES}/raw/broken", headers=headers)
    await runtime_of(app, InteropRuntime).message_log.flush()
    listed = await client.get("/admin/messagelog/records?xRoadId=broken-answer-1", headers=ADMIN)
    (record,) = listed.json()["records"]
    assert record["statusCode"] == 200 and record["outcome"] == "Completed with error(s)"
    after = await client.get(f"{BASE}/x", headers=client_headers(HEALTH))
    assert after.status_code == 200


async def test_head_keeps_the_providers_length(shared_mediator):
    _, client = shared_mediator
    response = await client.head(f"{BASE}/x", headers=client_headers(HEALTH))
    assert response.status_code == 200
    assert response.headers["content-length"] == "42"
    assert response.content == b""


async def test_percent_encoding_is_kept_and_ambiguous_paths_refused(shared_mediator):
    _, client = shared_mediator
    response = await client.get(f"{BASE}/a%3Ab/c%20d", headers=client_headers(HEALTH))
    assert response.status_code == 200
    assert response.json()["rawPath"] == "/echo/a%3Ab/c%20d"
    for ambiguous in ("/%2e%2e/fail", "/a%2Fb", "/a//b", "/a;x/b"):
        escape = await client.get(f"{BASE}{ambiguous}", headers=client_headers(HEALTH))
        assert escape.status_code == 400, ambiguous
        assert escape.json()["type"] == "Client.BadRequest"
