"""`POST /api/facilityRegistry/sync`: pull the registry's changes now (superuser)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.kernel.openapi import errors
from services.sectoral_platform.auth.deps import SuperuserDep
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.facility_registry.sync import RegistryUnavailable
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(
    prefix="/api/facilityRegistry",
    tags=["facilities"],
    dependencies=[Depends(sandbox_parameters())],
)


@router.post(
    "/sync",
    summary="Sync org units from the facility registry (incremental)",
    responses=errors(503),
)
async def sync_now(runtime: RuntimeDep, _: SuperuserDep) -> Response:
    try:
        result = await runtime.facility_sync.run()
    except RegistryUnavailable as exc:
        raise Dhis2Error(str(exc), status_code=503) from exc
    return json_response(result)
