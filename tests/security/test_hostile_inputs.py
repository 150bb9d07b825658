"""Requests that used to hurt a service: oversized, unauthenticated, deeply nested, huge paging.

Every service is started once (module scope) on its own scratch database; the body tests call
the app over raw ASGI so they can tell how many body chunks the app pulled.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.kernel.limits import BULK_BODY_LIMIT, DEFAULT_BODY_LIMIT, STREAMED_BODY_LIMIT, MiB
from tests.interop_layer.support import ADMIN, HEALTH, REGISTRIES, client_headers
from tests.security.hostile_support import (
    SERVICES,
    Service,
    error_shape,
    provider,
    raw_call,
    running,
)

pytestmark = pytest.mark.anyio

FORWARD_LIMIT = 2 * MiB  # the mediator's forwarding limit in these tests (default 32 MiB)
PUBLISH = f"/r1/{REGISTRIES}/pub/v1/birth-registered"
FORWARD = f"/r1/{REGISTRIES}/echo/anything"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Service]]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    with provider() as provider_url:
        async with contextlib.AsyncExitStack() as exits:
            started = {}
            for name in SERVICES:
                started[name] = await exits.enter_async_context(
                    running(
                        name,
                        tmp,
                        provider_url=provider_url,
                        max_forward_body_bytes=FORWARD_LIMIT,
                    )
                )
            yield started


# (service, path, headers that authenticate there; None: the service's usual ones)
BODY_ROUTES: list[tuple[str, str, dict[str, str] | None]] = [
    ("consent", "/config/policy/", None),
    ("id_registry", "/v1/identities", None),
    ("interop_layer", PUBLISH, client_headers(REGISTRIES)),
    ("interop_layer", "/admin/subsystems", ADMIN),
    ("registries", "/data/births/1.0/create", None),
    ("sectoral_platform", "/api/dataElements", None),
    ("sectoral_platform", "/api/metadata", None),
]
IDS = [f"{name}:{path}" for name, path, _ in BODY_ROUTES]


def _auth(service: Service, headers: dict[str, str] | None) -> dict[str, str]:
    return {**(service.auth if headers is None else headers), "content-type": "application/json"}


def too_large(name: str, path: str) -> int:
    """413, or on the mediator's message protocol PR-REST's 400 (a `Client.*` fault)."""
    return 400 if name == "interop_layer" and path.startswith("/r1/") else 413


def _assert_refused(service: Service, path: str, answer_status: int, body: object, status: int):
    assert answer_status == status, body
    assert isinstance(body, dict) and error_shape(service.name, path, body), body


@pytest.mark.parametrize(("name", "path", "headers"), BODY_ROUTES, ids=IDS)
async def test_a_declared_oversized_body_is_413_unread(stack, name, path, headers):
    service = stack[name]
    limit = BULK_BODY_LIMIT if path == "/api/metadata" else DEFAULT_BODY_LIMIT
    answer = await raw_call(
        service.app,
        "POST",
        path,
        headers=_auth(service, headers),
        chunks=[b"{}"],
        content_length=limit + 1,
    )
    _assert_refused(service, path, answer.status, answer.json(), too_large(name, path))
    assert answer.chunks_read == 0


@pytest.mark.parametrize(("name", "path", "headers"), BODY_ROUTES, ids=IDS)
async def test_a_streamed_oversized_body_is_413_once_past_the_limit(stack, name, path, headers):
    service = stack[name]
    limit = BULK_BODY_LIMIT if path == "/api/metadata" else DEFAULT_BODY_LIMIT
    chunk = b" " * (256 * 1024)
    chunks = [b"{"] + [chunk] * (limit // len(chunk) + 8)
    answer = await raw_call(
        service.app, "POST", path, headers=_auth(service, headers), chunks=chunks
    )
    _assert_refused(service, path, answer.status, answer.json(), too_large(name, path))
    assert answer.chunks_read <= limit // len(chunk) + 2  # stopped at the limit, not at the end


async def test_the_mediator_limits_what_it_forwards(stack):
    service = stack["interop_layer"]
    headers = _auth(service, client_headers(HEALTH))
    declared = await raw_call(
        service.app,
        "POST",
        FORWARD,
        headers=headers,
        chunks=[b"{}"],
        content_length=FORWARD_LIMIT + 1,
    )
    _assert_refused(service, FORWARD, declared.status, declared.json(), 400)
    assert declared.chunks_read == 0
    chunk = b" " * (256 * 1024)
    streamed = await raw_call(
        service.app,
        "POST",
        FORWARD,
        headers=headers,
        chunks=[chunk] * (FORWARD_LIMIT // len(chunk) + 8),
    )
    _assert_refused(service, FORWARD, streamed.status, streamed.json(), 400)
    assert streamed.chunks_read <= FORWARD_LIMIT // len(chunk) + 2
    small = await raw_call(
        service.app, "POST", FORWARD, headers=headers, chunks=[b'{"ok": true}'], content_length=12
    )
    assert small.status == 200, small.body


@pytest.mark.parametrize(
    "path", ["/api/dataValueSets", "/api/42/dataValueSets.json", "/api/dataValueSets/"]
)
async def test_a_bulk_import_route_takes_more_than_the_default(stack, path):
    service = stack["sectoral_platform"]
    padding = b" " * (DEFAULT_BODY_LIMIT + 1024)
    body = b'{"dataValues": []' + padding + b"}"
    answer = await raw_call(
        service.app,
        "POST",
        path,
        headers=_auth(service, None),
        chunks=[body],
        content_length=len(body),
    )
    assert answer.status == 200, answer.body
    over = await raw_call(
        service.app,
        "POST",
        path,
        headers=_auth(service, None),
        chunks=[b"{}"],
        content_length=STREAMED_BODY_LIMIT + 1,  # a JSON data value set streams in
    )
    _assert_refused(service, path, over.status, over.json(), 413)


# (service, path, status without credentials, status with wrong ones)
UNAUTHENTICATED: list[tuple[str, str, int, int]] = [
    ("consent", "/config/policy/", 401, 401),
    ("id_registry", "/v1/identities", 401, 401),
    # MOSIP answers a wrong licence key HTTP 200 with errors[] (IDA-MPA-007), still unread
    ("id_registry", "/idauthentication/v1/auth/wrong-licence/moh-hmis/key", 200, 200),
    # X-Road: no client header is a bad request (Client.BadRequest), an unknown key X-Road's
    # own fault (Server.ClientProxy.SslAuthenticationFailed), PR-REST 4.6
    ("interop_layer", PUBLISH, 400, 500),
    ("interop_layer", FORWARD, 400, 500),
    ("interop_layer", "/admin/subsystems", 401, 401),
    ("registries", "/data/births/1.0/create", 401, 401),
    ("registries", "/admin/facilities", 401, 401),
    ("sectoral_platform", "/api/dataElements", 401, 401),
    ("sectoral_platform", "/api/dataValueSets", 401, 401),
    ("sectoral_platform", "/api/civilRegistration/events", 401, 401),
]
WRONG = {
    "Authorization": "Basic d3Jvbmc6d3Jvbmc=",  # wrong:wrong
    "X-DPI-Admin-Key": "wrong",
    "X-DPI-Mediator-Key": "wrong",
    "X-DPI-Client-Key": "wrong",
    "X-Road-Client": HEALTH,
    "Information-Mediator-Client": HEALTH,
}


@pytest.mark.parametrize(
    ("name", "path", "anonymous", "wrong"),
    UNAUTHENTICATED,
    ids=[f"{n}:{p}" for n, p, _, _ in UNAUTHENTICATED],
)
async def test_an_unauthenticated_body_is_refused_unread(stack, name, path, anonymous, wrong):
    service = stack[name]
    chunks = [b"[" * 1024] * 64  # 64 KiB; were it read to the end: a 64 KiB nesting bomb
    for credentials, status in (({}, anonymous), (WRONG, wrong)):
        headers = {"content-type": "application/json", **credentials}
        for framing in (None, 1024 * len(chunks)):
            answer = await raw_call(
                service.app, "POST", path, headers=headers, chunks=chunks, content_length=framing
            )
            _assert_refused(service, path, answer.status, answer.json(), status)
            assert answer.chunks_read == 0


@pytest.mark.parametrize(("name", "path", "headers"), BODY_ROUTES, ids=IDS)
@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("depth", [900, 10_000])
async def test_deeply_nested_json_is_400(stack, name, path, headers, shape, depth):
    service = stack[name]
    body = (
        b"[" * depth + b"]" * depth if shape == "array" else b'{"a":' * depth + b"1" + b"}" * depth
    )
    answer = await raw_call(
        service.app,
        "POST",
        path,
        headers=_auth(service, headers),
        chunks=[body],
        content_length=len(body),
    )
    _assert_refused(service, path, answer.status, answer.json(), 400)


HUGE = [str(2**63), str(10**30), "9" * 5000]
PAGING: list[tuple[str, str, str, dict[str, str] | None]] = [
    ("consent", "/v1/decisions", "offset", None),
    ("consent", "/config/policies/", "offset", None),
    ("consent", "/config/data-agreements/", "limit", None),
    ("consent", "/config/individuals/", "offset", None),
    ("consent", "/config/webhooks/", "offset", None),
    ("consent", "/service/individuals/", "offset", None),
    ("consent", "/service/verification/data-agreements/", "offset", None),
    ("consent", "/service/verification/consent-records/", "offset", None),
    ("consent", "/audit/data-agreements/", "offset", None),
    ("consent", "/audit/consent-records/", "offset", None),
    ("id_registry", "/v1/identities", "offset", None),
    ("id_registry", "/v1/identities", "limit", None),
    ("id_registry", "/v1/mock/otp-outbox", "offset", None),
    ("id_registry", "/v1/audit", "limit", None),
    ("interop_layer", "/admin/messagelog/records", "offset", ADMIN),
    ("interop_layer", "/admin/messagelog/records", "limit", ADMIN),
    ("interop_layer", "/admin/pubsub/deliveries", "limit", ADMIN),
    ("registries", "/data/births/1.0", "page", None),
    ("registries", "/data/births/1.0", "pageSize", None),
    ("registries", "/admin/outbox", "limit", ADMIN),
    ("registries", "/fhir/Location", "_count", None),
    ("sectoral_platform", "/api/tracker/enrollments", "page", None),
    ("sectoral_platform", "/api/tracker/events", "pageSize", None),
    ("sectoral_platform", "/api/tracker/trackedEntities", "page", None),
    ("sectoral_platform", "/api/openData/publications", "page", None),
    ("sectoral_platform", "/api/dataElements", "page", None),
    ("sectoral_platform", "/api/dataElements", "pageSize", None),
]


@pytest.mark.parametrize(
    ("name", "path", "param", "headers"), PAGING, ids=[f"{n}:{p}?{q}" for n, p, q, _ in PAGING]
)
async def test_paging_past_32_bits_is_400(stack, name, path, param, headers):
    service = stack[name]
    auth = service.auth if headers is None else headers
    for value in HUGE:
        response = await service.client.get(path, params={param: value}, headers=auth)
        _assert_refused(service, path, response.status_code, response.json(), 400)
        if name == "id_registry":
            assert response.json()["errors"][0]["errorCode"] == "IDA-MLC-009"
    edge = await service.client.get(path, params={param: str(2**31 - 1)}, headers=auth)
    assert edge.status_code < 500, edge.text


# integers in the path: no paging name to refuse them by, the database refuses them instead
PATH_INTS: list[tuple[str, str, str, dict[str, str] | None]] = [
    ("id_registry", "DELETE", "/v1/mock/expectations/{}", None),
    ("interop_layer", "GET", "/admin/messagelog/records/{}", ADMIN),
    ("registries", "GET", "/database/{}", None),
    ("registries", "DELETE", "/database/{}", None),
]


@pytest.mark.parametrize(
    ("name", "method", "template", "headers"),
    PATH_INTS,
    ids=[f"{n}:{m} {t}" for n, m, t, _ in PATH_INTS],
)
async def test_a_path_integer_past_64_bits_is_400(stack, name, method, template, headers):
    service = stack[name]
    auth = service.auth if headers is None else headers
    for value in (str(2**63), str(10**30)):
        path = template.format(value)
        response = await service.client.request(method, path, headers=auth)
        _assert_refused(service, path, response.status_code, response.json(), 400)
