"""Boundaries past credentials hold before a body is read: access rights, consent, mediator-only.

`test_hostile_inputs` shows a request without (or with wrong) credentials is refused unread. A
caller whose credentials are right but who may not do what it asks is refused unread as well:
the mediator's access right and consent gate, the endpoints only the mediator may call (token
exchange, the event inbox, consent decisions) and the claims a direct call may not make.
Each case sends a 64 KiB nesting bomb, declared and chunked, and counts the chunks pulled.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.registries.settings import SANDBOX_API_KEY
from tests.interop_layer.support import EDUCATION, HEALTH, REGISTRIES, client_headers
from tests.security.hostile_support import (
    ORG_KEY,
    Service,
    error_shape,
    provider,
    raw_call,
    running,
)

pytestmark = pytest.mark.anyio

NAMES = ("consent", "id_registry", "interop_layer", "registries")
IMMUNISATION = f"/r1/{HEALTH}/immunisation-status/people/status"
REGISTRY_KEY = {"Authorization": SANDBOX_API_KEY, "Information-Mediator-Client": REGISTRIES}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Service]]:
    tmp: Path = tmp_path_factory.mktemp("prebody")
    with provider() as provider_url:
        async with contextlib.AsyncExitStack() as exits:
            yield {
                name: await exits.enter_async_context(running(name, tmp, provider_url=provider_url))
                for name in NAMES
            }


# (service, method, path, headers with valid credentials for something else, status, what)
CASES: list[tuple[str, str, str, dict[str, str], int, str]] = [
    # X-Road: an authenticated client without the access right (EDUCATION may GET /public/*)
    (
        "interop_layer",
        "POST",
        f"/r1/{REGISTRIES}/echo/private/records",
        client_headers(EDUCATION),
        500,  # X-Road: the provider's security server refuses, Server.ServerProxy.AccessDenied
        "AccessDenied",
    ),
    # the consent gate: no subject on a consent-required service, then a subject without consent
    ("interop_layer", "GET", IMMUNISATION, client_headers(EDUCATION), 400, "X-DPI-Subject"),
    (
        "interop_layer",
        "GET",
        IMMUNISATION,
        client_headers(EDUCATION, **{"X-DPI-Subject": "edu-amina", "X-DPI-Purpose": "marketing"}),
        500,
        "Consent denied",
    ),
    # endpoints only the mediator may call, with the admin key (valid elsewhere on the service)
    ("id_registry", "POST", "/v1/token-exchange", {"X-DPI-Admin-Key": "dpi-admin"}, 401, ""),
    ("id_registry", "POST", "/v1/events/inbox", {"X-DPI-Admin-Key": "dpi-admin"}, 401, ""),
    ("consent", "POST", "/v1/decisions", {"Authorization": f"ApiKey {ORG_KEY}"}, 401, ""),
    # registries: a direct call claiming an end user or another client is refused, unread
    (
        "registries",
        "POST",
        "/data/births/1.0/create",
        {**REGISTRY_KEY, "X-Road-UserId": "XD Mary Jane"},
        403,
        "X-Road-UserId",
    ),
    (
        "registries",
        "POST",
        "/database/modify",
        {**REGISTRY_KEY, "Information-Mediator-Client": EDUCATION},
        403,
        "Information-Mediator-Client",
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "path", "headers", "status", "named"),
    CASES,
    ids=[f"{c[0]}:{c[1]}:{c[2]}:{c[4]}" for c in CASES],
)
async def test_a_caller_refused_past_its_credentials_is_refused_unread(
    stack, name, method, path, headers, status, named
):
    service = stack[name]
    chunks = [b"[" * 1024] * 64
    for framing in (None, 1024 * len(chunks)):
        answer = await raw_call(
            service.app,
            method,
            path,
            headers={"content-type": "application/json", **headers},
            chunks=chunks,
            content_length=framing,
        )
        assert answer.status == status, answer.body
        body = answer.json()
        assert error_shape(name, path, body), body
        assert named in answer.body.decode()
        assert answer.chunks_read == 0
