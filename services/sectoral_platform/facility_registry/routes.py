"""`POST /api/facilityRegistry/sync`: pull the registry's changes now (superuser)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.kernel.openapi import errors
from services.sectoral_platform.auth.scope import SuperuserDep
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.facility_registry.sync import FacilitySync, RegistryUnavailable

router = APIRouter(prefix="/api/facilityRegistry", tags=["facilities"])


@router.post(
    "/sync",
    summary="Sync org units from the facility registry (incremental)",
    responses=errors(503),
)
async def sync_now(request: Request, _: SuperuserDep) -> Response:
    sync: FacilitySync = request.app.state.facility_sync
    try:
        result = await sync.run()
    except RegistryUnavailable as exc:
        raise Dhis2Error(str(exc), status_code=503) from exc
    return json_response(result)
