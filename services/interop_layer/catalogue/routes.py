"""X-Road metaservices (`listClients`, `listMethods`, `allowedMethods`, `getOpenAPI`) and the
catalogue's admin API."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.interop_layer.auth import ClientDep, directory_of, exchange_of, provider_id
from services.interop_layer.catalogue import service
from services.interop_layer.catalogue.describe import (
    clients_xml,
    one_service,
    parse_document,
    wants_xml,
)
from services.interop_layer.catalogue.models import ServiceEntryCreate, ServiceEntryPublic
from services.interop_layer.directory import ServiceTarget
from services.interop_layer.errors import (
    BadRequest,
    ProviderTimeout,
    ProviderUnreachable,
    UnknownService,
)
from services.interop_layer.identifiers import SubsystemId
from services.interop_layer.runtime import reload_directory
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.http import make_client
from services.kernel.openapi import errors

meta = APIRouter(tags=["metaservices"])
admin = APIRouter(prefix="/admin/services", tags=["catalogue (admin)"])
PROVIDER = "/r1/{instance}/{member_class}/{member_code}/{subsystem_code}"


@meta.get(
    "/listClients",
    summary="Members and subsystems of the instance",
    responses={200: {"content": {"application/json": {}, "text/xml": {}}}},
)
def list_clients(
    request: Request,
    x_road_instance: Annotated[str | None, Query(alias="xRoadInstance")] = None,
    instance_id: Annotated[str | None, Query(alias="instanceId")] = None,
) -> Any:
    """X-Road's shape (JSON, or its XML `clientList` by `Accept`); GovStack's directory shape
    when asked with GovStack's `instanceId`."""
    govstack = instance_id is not None and x_road_instance is None
    instance = x_road_instance or instance_id
    members: dict[str, dict[str, Any]] = {}
    subsystems = []
    for member_id, name in sorted(directory_of(request).subsystems.items()):
        ident = SubsystemId.parse(member_id)
        if instance and ident.instance != instance:
            continue
        if govstack:
            member = {**ident.govstack(), "objectType": "MEMBER"}
            del member["applicationCode"]
            application = {**ident.govstack(), "objectType": "APPLICATION"}
        else:
            member = ident.xroad("MEMBER")
            del member["subsystem_code"]
            application = ident.xroad()
        members.setdefault(ident.member, {"id": member, "name": ident.member_code})
        subsystems.append({"id": application, "name": name})
    listed = [*members.values(), *subsystems]
    if not govstack and wants_xml(request.headers.get("accept", "")):
        return Response(clients_xml(listed), media_type="text/xml; charset=utf-8")
    return {"member": listed}


def _describe(target: ServiceTarget, endpoints: list[dict[str, str]]) -> dict[str, Any]:
    ident = SubsystemId.parse(target.provider)
    return {
        **ident.xroad("SERVICE"),
        "service_code": target.service_code,
        "service_type": target.service_type,
        "endpoint_list": endpoints,
    }


def _describe_govstack(target: ServiceTarget, endpoints: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "objectType": "SERVICE",
        "serviceType": target.service_type,
        **SubsystemId.parse(target.provider).govstack(),
        "serviceCode": target.service_code,
        "endpointList": {"member": endpoints},
    }


def _services_answer(
    request: Request, found: list[tuple[ServiceTarget, list[dict[str, str]]]]
) -> dict[str, Any]:
    """X-Road's `{"service": [...]}`, or GovStack's `{"member": [...]}` for GovStack callers."""
    if "x-govstack-client" in request.headers:
        return {"member": [_describe_govstack(t, e) for t, e in found]}
    return {"service": [_describe(t, e) for t, e in found]}


def _provider_services(
    request: Request, parts: tuple[str, ...], service_id: str | None, name: str
) -> list[ServiceTarget]:
    provider = provider_id(*parts)
    exchange_of(request).service = f"{provider}/{name}"
    targets = directory_of(request).services_of(provider)
    if service_id:
        targets = [t for t in targets if t.service_code == service_id]
    return targets


@meta.get(PROVIDER + "/listMethods", summary="Services and endpoints a provider offers")
def list_methods(
    request: Request,
    instance: str,
    member_class: str,
    member_code: str,
    subsystem_code: str,
    client: ClientDep,
    service_id: Annotated[str | None, Query(alias="serviceId")] = None,
) -> dict[str, Any]:
    targets = _provider_services(
        request, (instance, member_class, member_code, subsystem_code), service_id, "listMethods"
    )
    return _services_answer(request, [(t, [e.public() for e in t.endpoints]) for t in targets])


@meta.get(PROVIDER + "/allowedMethods", summary="The provider's services this client may call")
def allowed_methods(
    request: Request,
    instance: str,
    member_class: str,
    member_code: str,
    subsystem_code: str,
    client: ClientDep,
    service_id: Annotated[str | None, Query(alias="serviceId")] = None,
) -> dict[str, Any]:
    targets = _provider_services(
        request, (instance, member_class, member_code, subsystem_code), service_id, "allowedMethods"
    )
    directory = directory_of(request)
    found = []
    for target in targets:
        rules = directory.grant(client, target.provider, target.service_code)
        if rules is not None:
            found.append((target, [r.public() for r in (rules or target.endpoints)]))
    return _services_answer(request, found)


@meta.get(
    PROVIDER + "/getOpenAPI",
    summary="The OpenAPI description of one service",
    responses={
        200: {
            "description": "The provider's document cut to this service's endpoints",
            "content": {"application/json": {}},
        },
        **errors(400, 500),
    },
)
async def get_openapi(
    request: Request,
    instance: str,
    member_class: str,
    member_code: str,
    subsystem_code: str,
    client: ClientDep,
    service_code: Annotated[str | None, Query(alias="serviceCode")] = None,
) -> Response:
    provider = provider_id(instance, member_class, member_code, subsystem_code)
    exchange_of(request).service = f"{provider}/getOpenAPI"
    if not service_code:
        raise BadRequest("Query parameter serviceCode is required.")
    target = directory_of(request).service(provider, service_code)
    if target is None:
        raise UnknownService(f"Unknown service {provider}/{service_code}.")
    if target.openapi_url is None:
        raise UnknownService(f"Service {target.id} publishes no OpenAPI description.")
    try:
        async with make_client() as http:
            answer = await http.get(target.openapi_url)
    except httpx.TimeoutException as exc:
        raise ProviderTimeout(f"Service {target.id} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(f"Service {target.id} is unreachable.") from exc
    if answer.status_code != 200:
        raise ProviderUnreachable(f"Service {target.id} answered {answer.status_code}.")
    media = answer.headers.get("content-type", "application/json")
    document = parse_document(answer.content, media)
    if document is None:
        raise ProviderUnreachable(f"Service {target.id} serves no readable OpenAPI document.")
    described = one_service(document, target, target.path_prefix)
    return JSONResponse(described)


@admin.get("", summary="Every catalogue service, with its resolved upstream URL")
def list_services(
    session: SessionDep, _: AdminDep, provider: str | None = None
) -> list[ServiceEntryPublic]:
    return [service.public(e) for e in service.list_services(session=session, provider=provider)]


@admin.put("", summary="Register or replace a service")
def upsert_service(
    request: Request, session: SessionDep, _: AdminDep, data: ServiceEntryCreate
) -> ServiceEntryPublic:
    entry = service.upsert_service(session=session, data=data)
    reload_directory(request.app)
    return service.public(entry)


@admin.delete("", status_code=204, summary="Remove a service", responses=errors(404))
def delete_service(
    request: Request,
    session: SessionDep,
    _: AdminDep,
    provider: str,
    service_code: Annotated[str, Query(alias="serviceCode")],
) -> Response:
    service.delete_service(session=session, provider=provider, service_code=service_code)
    reload_directory(request.app)
    return Response(status_code=204)
