"""`/api/identity`: register a person with the ID system's help; pending checks."""

from __future__ import annotations

import logging

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.sectoral_platform.auth.deps import ScopeDep, SuperuserDep
from services.sectoral_platform.auth.scope import Kind
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import bad_request, not_found
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(
    prefix="/api/identity", tags=["identity"], dependencies=[Depends(sandbox_parameters())]
)
log = logging.getLogger("dpi.sectoral_platform.identity")


@router.post("/registrations", summary="Register a person verified by the national ID system")
async def register(request: Request, runtime: RuntimeDep, scope: ScopeDep) -> Response:
    scope.user.require("F_TRACKED_ENTITY_INSTANCE_ADD")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"JSON parse error: {exc}") from exc
    status, answer = await runtime.registrar.register(body, scope)
    return json_response(answer, status)


@router.get("/registrations/{uid}", summary="The ID check of one registration")
def registration(runtime: RuntimeDep, uid: str, scope: ScopeDep) -> Response:
    registrar = runtime.registrar
    outcome = registrar.outcome(uid)
    if outcome is None or not scope.covers_path(Kind.SEARCH, registrar.org_unit_path(uid)):
        raise not_found(f"No registration for tracked entity `{uid}`.", None)
    return json_response(outcome)


@router.post("/verifications/run", summary="Retry the pending ID checks now")
async def run_verifications(runtime: RuntimeDep, _: SuperuserDep) -> Response:
    return json_response(await runtime.registrar.verify_pending())
