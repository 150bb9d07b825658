"""`/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICECODE}/{path}`: every method.

The hot path, reached through `entrance.py` (not the router: with a few dozen routes, FastAPI's
matching and parameter solving cost more than the whole forwarding hop). Mediator errors are
raised as typed errors and rendered by the service's one X-Road error renderer.
"""

from __future__ import annotations

import re
from functools import lru_cache

from starlette.types import Receive, Scope, Send

from services.interop_layer.auth import authenticate, provider_id, request_headers
from services.interop_layer.consent_gate.gate import PURPOSE, SUBJECT, admit
from services.interop_layer.errors import (
    AccessDenied,
    BadRequest,
    ProviderUnreachable,
)
from services.interop_layer.errors import UnknownService as UnknownServiceError
from services.interop_layer.faults.service import inject
from services.interop_layer.messagelog.capture import Exchange
from services.interop_layer.routing.forward import forward
from services.interop_layer.routing.paths import check_service_id, service_path
from services.interop_layer.runtime import InteropRuntime, fault_store

SERVICE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")  # as the catalogue's
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
SUBJECT_HEADER, PURPOSE_HEADER = SUBJECT.encode(), PURPOSE.encode()


def _text(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


@lru_cache(maxsize=1024)  # the same few services are called again and again
def _service_id(raw_id: bytes, *params: str) -> tuple[str, str, str]:
    """Provider, service code and service of the raw `/r1/I/C/M/S/CODE`, checked."""
    check_service_id(raw_id, list(params))
    provider = provider_id(*params[:4])
    service_code = params[4]
    if not SERVICE_CODE.match(service_code):
        raise BadRequest("Malformed service code: 1-100 characters of A-Z a-z 0-9 . _ -.")
    return provider, service_code, f"{provider}/{service_code}"


async def call_service(
    scope: Scope,
    receive: Receive,
    send: Send,
    params: list[str],
    runtime: InteropRuntime,
    headers: dict[bytes, bytes] | None = None,
) -> None:
    """Authenticate, find the service, check the right (and consent), forward and answer;
    `headers` are the request's (`request_headers`) when already read."""
    method: str = scope["method"]
    if method not in METHODS:
        raise BadRequest(f"Method {method} is not supported by r1.")
    directory = runtime.directory
    exchange: Exchange = scope["state"]["exchange"]
    if headers is None:
        headers = request_headers(scope)
    client = authenticate(headers, directory=directory, exchange=exchange)
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    parts = raw.split(b"/", 7)
    provider, service_code, service = _service_id(b"/".join(parts[:7]), *params)
    exchange.service = service
    raw_path = b"/" + parts[7] if len(parts) > 7 else b""  # after the service code, as sent
    path = service_path(raw_path)
    target = directory.service(provider, service_code)
    if target is None:
        raise UnknownServiceError(f"Unknown service {service}.")
    if not directory.allowed(client, provider, service_code, method, path):
        raise AccessDenied(f"Client {client} has no access right to {method} {path} of {service}.")
    if not target.offers(method, path):
        raise UnknownServiceError(f"Service {service} offers no endpoint {method} {path}.")
    if target.url is None:
        raise ProviderUnreachable(f"Service {service} has no resolvable upstream URL.")
    provider_token = await admit(
        exchange=exchange,
        target=target,
        client=client,
        subject=_text(headers, SUBJECT_HEADER),
        purpose=_text(headers, PURPOSE_HEADER),
        consent_partner=runtime.consent_partner,
        exchanger=runtime.token_exchanger,
        decider=runtime.decision_client,
    )
    if runtime.faults:
        answered = await inject(
            runtime, fault_store(runtime), scope, send, exchange=exchange, target=target,
            path=path, settings=runtime.settings,
        )  # fmt: skip
        if answered:
            return
    await forward(
        scope,
        receive,
        send,
        path=raw_path,
        service=service,
        headers=headers,
        pool=runtime.forward_pool,
        settings=runtime.settings,
        target=target,
        client=client,
        exchange=exchange,
        provider_token=provider_token,
    )
