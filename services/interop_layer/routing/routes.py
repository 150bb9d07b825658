"""`/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICECODE}/{path}`: every method."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.interop_layer.consent.gate import PURPOSE, SUBJECT, admit
from services.interop_layer.errors import AccessDenied, BadRequest, ProviderUnreachable
from services.interop_layer.errors import UnknownService as UnknownServiceError
from services.interop_layer.routing.auth import (
    ClientDep,
    directory_of,
    exchange_of,
    provider_id,
)
from services.interop_layer.routing.forward import forward, upstream_path

router = APIRouter(tags=["X-Road r1"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _service_path(request: Request) -> str:
    """The decoded path after the service code, refusing dot segments (no escaping the prefix)."""
    path = unquote(upstream_path(request))
    if any(segment in (".", "..") for segment in path.split("/")):
        raise BadRequest("Dot segments ('.', '..') are not allowed in a service path.")
    return path or "/"


@router.api_route(
    "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}/{service_code}{rest:path}",
    methods=METHODS,
    summary="Call a provider's service through the mediator",
    response_class=Response,
)
async def call_service(
    request: Request,
    instance: str,
    member_class: str,
    member_code: str,
    subsystem_code: str,
    service_code: str,
    rest: str,
    client: ClientDep,
) -> Response:
    exchange = exchange_of(request)
    provider = provider_id(instance, member_class, member_code, subsystem_code)
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
