"""`/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICECODE}/{path}`: every method.

This is the hot path, so it is an ASGI middleware placed innermost (inside tracing and the
message log) that answers before the router: with a few dozen routes, FastAPI's matching and
parameter solving cost more than the whole forwarding hop. Paths of the mediator's own r1
endpoints (metaservices, pub/sub rooms) fall through to the router. Errors raised here go
through the service's one X-Road error renderer.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.interop_layer.catalogue.models import RESERVED_CODES
from services.interop_layer.consent.gate import PURPOSE, SUBJECT, admit
from services.interop_layer.errors import (
    AccessDenied,
    BadRequest,
    ProviderUnreachable,
    render_xroad_error,
)
from services.interop_layer.errors import UnknownService as UnknownServiceError
from services.interop_layer.routing.auth import (
    authenticated_client,
    directory_of,
    exchange_of,
    provider_id,
)
from services.interop_layer.routing.forward import forward, upstream_path
from services.kernel.errors import DomainError

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
PARAMS = ("instance", "member_class", "member_code", "subsystem_code", "service_code")


def _service_path(request: Request) -> str:
    """The decoded path after the service code, refusing dot segments (no escaping the prefix)."""
    path = unquote(upstream_path(request))
    if any(segment in (".", "..") for segment in path.split("/")):
        raise BadRequest("Dot segments ('.', '..') are not allowed in a service path.")
    return path or "/"


async def call_service(request: Request) -> Response:
    """Authenticate, find the service, check the right (and consent), forward."""
    if request.method not in METHODS:
        raise BadRequest(f"Method {request.method} is not supported by r1.")
    client = await authenticated_client(request)
    exchange = exchange_of(request)
    params = request.path_params
    provider = provider_id(
        params["instance"], params["member_class"], params["member_code"], params["subsystem_code"]
    )
    service_code = params["service_code"]
    service = f"{provider}/{service_code}"
    exchange.service = service
    path = _service_path(request)
    directory = directory_of(request)
    target = directory.service(provider, service_code)
    if target is None:
        raise UnknownServiceError(f"Unknown service {service}.")
    if not directory.allowed(client, provider, service_code, request.method, path):
        raise AccessDenied(
            f"Client {client} has no access right to {request.method} {path} of {service}."
        )
    if not target.offers(request.method, path):
        raise UnknownServiceError(f"Service {service} offers no endpoint {request.method} {path}.")
    if target.url is None:
        raise ProviderUnreachable(f"Service {service} has no resolvable upstream URL.")
    state = request.app.state
    provider_token = await admit(
        exchange=exchange,
        target=target,
        client=client,
        subject=request.headers.get(SUBJECT),
        purpose=request.headers.get(PURPOSE),
        consent_partner=state.consent_partner,
        exchanger=state.token_exchanger,
        decider=state.decision_client,
    )
    return await forward(
        request,
        session=state.forward_session,
        settings=state.settings,
        target=target,
        client=client,
        exchange=exchange,
        provider_token=provider_token,
    )


class ForwardingMiddleware:
    """Answers `/r1/.../{SERVICECODE}/...` calls to provider services itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        parts = path.split("/", 7) if path.startswith("/r1/") else ()
        if len(parts) < 7 or parts[6] in RESERVED_CODES or not parts[6]:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = dict(zip(PARAMS, parts[2:7], strict=True))
        request = Request(scope, receive)
        try:
            response = await call_service(request)
        except DomainError as error:
            response = render_xroad_error(request, error)
        await response(scope, receive, send)
