"""`/api/routes`: route metadata (create, list, read, replace, delete) and
`/api/routes/{id}/run[/**]`, which proxies to the route's target.

Not org unit data: managing routes needs `F_ROUTE_PUBLIC_ADD` / `F_ROUTE_PRIVATE_ADD` /
`F_ROUTE_DELETE`; running one needs read access to it or one of its `authorities`.
"""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.db import Database, DatabaseDep
from services.kernel.mediator import MediatorClient
from services.kernel.runtime import kernel_state
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.auth.service import CurrentUser
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.params import int_param
from services.sectoral_platform.dhis2.sealing import box_for
from services.sectoral_platform.dhis2.web import json_response, parse_bool
from services.sectoral_platform.errors import Dhis2Error, bad_request, not_found
from services.sectoral_platform.routes_api import proxy, service, targets
from services.sectoral_platform.settings import SectoralSettings

router = APIRouter(prefix="/api/routes", tags=["routes"], dependencies=[Depends(check_parameters)])
RUN_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _settings(request: Request) -> SectoralSettings:
    settings = kernel_state(request.app).settings
    assert isinstance(settings, SectoralSettings)
    return settings


def _box(request: Request) -> Fernet:
    return box_for("routes", _settings(request).secrets_key)


def _allowed(request: Request) -> list[str]:
    return list(_settings(request).route_remote_servers_allowed)


async def _json(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc


@router.get("", summary="The routes the caller may read")
async def list_routes(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Response:
    params = request.query_params
    if params.get("fields") not in (None, "", "*", ":all", ":owner"):
        raise bad_request("Only `fields=*` is supported on /api/routes by the sandbox")
    routes = [r.view() for r in await run_in_threadpool(service.readable, database.engine, user)]
    if not parse_bool(params.get("paging"), default=True):
        return json_response({"routes": routes})
    page, size = int_param(params, "page", 1), int_param(params, "pageSize", 50)
    pager = {"page": page, "pageSize": size, "total": len(routes),
             "pageCount": max(1, -(-len(routes) // size))}  # fmt: skip
    return json_response({"pager": pager, "routes": routes[(page - 1) * size : page * size]})


@router.post("", summary="Create a route")
async def create_route(request: Request, database: DatabaseDep, user: CurrentUserDep) -> Response:
    body, box, allowed = await _json(request), _box(request), _allowed(request)
    uid, _ = await run_in_threadpool(service.save, database.engine, box, user, body, allowed)
    headers = {"Location": f"/api/routes/{uid}"}
    return json_response(service.object_report(201, uid), status_code=201, headers=headers)


@router.get("/{ident}", summary="A route (secrets never shown)")
async def read_route(
    ident: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    route = await run_in_threadpool(service.get, database.engine, user, ident)
    return json_response(route.view())


@router.put("/{uid}", summary="Replace a route (an omitted secret of the same auth type is kept)")
async def replace_route(
    uid: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    body, box, allowed = await _json(request), _box(request), _allowed(request)
    await run_in_threadpool(lambda: service.save(database.engine, box, user, body, allowed, uid))
    return json_response(service.object_report(200, uid))


@router.delete("/{uid}", summary="Delete a route")
async def delete_route(
    uid: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    await run_in_threadpool(service.delete, database.engine, user, uid)
    return json_response(service.object_report(200, uid))


async def run_route(
    ident: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    return await _run(ident, None, request, database, user)


async def run_route_sub_path(
    ident: str, sub_path: str, request: Request, database: DatabaseDep, user: CurrentUserDep
) -> Response:
    return await _run(ident, sub_path, request, database, user)


async def _run(
    ident: str, sub_path: str | None, request: Request, database: Database, user: CurrentUser
) -> Response:
    route = await run_in_threadpool(service.lookup, database.engine, ident)
    if route is None or route.row.disabled:
        raise not_found(f"Route {ident} not found", None)
    if not route.may_run(user):
        raise Dhis2Error("User not authorized", status_code=403)
    if not targets.permitted(route.row.url, _allowed(request)):
        raise Dhis2Error("Route URL is not permitted", status_code=503)
    call = proxy.Call(
        method=request.method,
        sub_path=sub_path,
        query=list(request.query_params.multi_items()),
        headers=request.headers,
        body=await request.body(),
        username=user.username,
    )
    mediator = MediatorClient(_settings(request).service, secret=_settings(request).sandbox_secret)
    answer = await proxy.run(route, call, _box(request), mediator)
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


for _method in RUN_METHODS:  # one operation per method: each gets its own OpenAPI operation id
    router.add_api_route(
        "/{ident}/run", run_route, methods=[_method], summary="Run a route",
        name=f"run_route_{_method.lower()}",
    )  # fmt: skip
    router.add_api_route(
        "/{ident}/run/{sub_path:path}", run_route_sub_path, methods=[_method],
        summary="Run a route, sub-path", name=f"run_route_sub_path_{_method.lower()}",
    )  # fmt: skip
