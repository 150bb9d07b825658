"""Running a route: the caller's request, filtered, sent to the target with the route's
credentials added here (they never reach the caller); the answer, filtered and capped.

A route to the information mediator goes through the kernel's mediator client, so the platform
calls as its own member (`X-Road-Client`, its client key) and the mediator logs the exchange."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
from cryptography.fernet import Fernet

from services.kernel.credentials import CLIENT_KEY_HEADER
from services.kernel.http import make_client
from services.kernel.mediator import CLIENT_HEADER, MediatorClient
from services.sectoral_platform.errors import Dhis2Error, bad_request
from services.sectoral_platform.routes_api import targets
from services.sectoral_platform.routes_api.service import Route

MAX_RESPONSE_BYTES = 256 * 1024
REQUEST_HEADERS = frozenset({
    "accept", "accept-encoding", "accept-language", "x-requested-with", "user-agent",
    "cache-control", "if-match", "if-modified-since", "if-none-match", "if-range",
    "if-unmodified-since", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port",
    "x-forwarded-proto", "x-forwarded-prefix", "forwarded", "content-type",
})  # fmt: skip
RESPONSE_HEADERS = frozenset({"content-language", "content-type", "expires", "cache-control",
                              "last-modified", "etag"})  # fmt: skip
MEMBER_HEADERS = frozenset({CLIENT_HEADER.lower(), CLIENT_KEY_HEADER.lower()})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Call:
    method: str
    sub_path: str | None
    query: list[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes
    username: str


def _sub_path(route: Route, sub_path: str | None) -> str:
    if not sub_path:
        return ""
    if not route.row.url.endswith(targets.WILDCARD):
        raise Dhis2Error(f"Route '{route.row.uid}' does not allow sub-paths", status_code=502)
    if any(part in ("..", ".") for part in unquote(sub_path).replace("\\", "/").split("/")):
        raise bad_request(f"Route sub-path `{sub_path}` leaves the route's base")
    return "/" + sub_path.lstrip("/")


Prepared = tuple[str, dict[str, str], list[tuple[str, str]]]


def prepared(route: Route, call: Call, box: Fernet) -> Prepared:
    """The target URL (or mediator path), headers and query, credentials applied."""
    headers = {k: v for k, v in call.headers.items() if k.lower() in REQUEST_HEADERS}
    headers.update(route.headers)
    headers["X-Forwarded-User"] = call.username
    query = list(call.query)
    if route.row.auth_type is not None:
        secrets = route.secrets(box)
        kind = route.row.auth_type
        if kind == "http-basic":
            pair = f"{secrets['username']}:{secrets['password']}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif kind == "api-token":
            headers["Authorization"] = f"ApiToken {secrets['token']}"
        elif kind == "api-headers":
            headers.update(secrets["headers"])
        else:
            query.extend(secrets["queryParams"].items())
    target = targets.base_of(route.row.url) + _sub_path(route, call.sub_path)
    return target, headers, query


async def run(route: Route, call: Call, box: Fernet, mediator: MediatorClient) -> Answer:
    target, headers, query = prepared(route, call, box)
    timeout = httpx.Timeout(float(route.row.timeout), connect=2.0)
    path = targets.mediator_path(target)
    request: dict[str, Any] = {"params": query, "content": call.body or None}
    try:
        if path is not None:
            kept = {k: v for k, v in headers.items() if k.lower() not in MEMBER_HEADERS}
            async with mediator.session() as session:
                member = {**kept, **mediator.headers}  # the platform calls as its own member
                stream = session.client.stream(call.method, path, headers=member,
                                               timeout=timeout, **request)  # fmt: skip
                async with stream as response:
                    return await _answer(response)
        async with (
            make_client(timeout=timeout) as client,
            client.stream(call.method, target, headers=headers, **request) as response,
        ):
            return await _answer(response)
    except httpx.TimeoutException as exc:
        raise Dhis2Error(f"Route target did not answer within {route.row.timeout} s",
                         status_code=504) from exc  # fmt: skip
    except httpx.HTTPError as exc:
        raise Dhis2Error(f"Route target unreachable: {type(exc).__name__}",
                         status_code=502) from exc  # fmt: skip


async def _answer(response: httpx.Response) -> Answer:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise Dhis2Error(
                f"Response from the route target exceeds {MAX_RESPONSE_BYTES} bytes",
                status_code=502,
            )
    kept = {k: v for k, v in response.headers.items() if k.lower() in RESPONSE_HEADERS}
    return Answer(response.status_code, kept, body)
