"""`/api/system/info`, `/api/system/id`, `/api/system/ping`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from services.kernel.time import dhis2_timestamp, naive_utc
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(prefix="/api/system", tags=["system"], dependencies=[Depends(check_parameters)])

VERSION = "2.42.1"
REVISION = "dpi-sandbox"
BUILD_TIME = "2026-01-01T00:00:00.000"


@router.get("/info", summary="System information (DHIS2 2.42)")
def system_info(request: Request, runtime: RuntimeDep, _: CurrentUserDep) -> Response:
    now = naive_utc()
    return json_response(
        {
            "version": VERSION,
            "revision": REVISION,
            "buildTime": BUILD_TIME,
            "serverDate": dhis2_timestamp(now),
            "serverTimeZoneId": "Etc/UTC",
            "serverTimeZoneDisplayName": "Coordinated Universal Time",
            "calendar": "iso8601",
            "dateFormat": "yyyy-mm-dd",
            "contextPath": str(request.base_url).rstrip("/"),
            "systemName": "DPI Sandbox Sectoral Platform",
            "systemId": runtime.system_id,
            "instanceBaseUrl": str(request.base_url).rstrip("/"),
            "lastAnalyticsTableGeneration": dhis2_timestamp(now),
            "intervalSinceLastAnalyticsTableGeneration": "0 s",
            "databaseInfo": {"spatialSupport": False},
        }
    )


@router.get("/id", summary="Generate UIDs")
def system_id(request: Request, _: CurrentUserDep) -> Response:
    raw = request.query_params.get("limit", "1")
    try:
        limit = int(raw)
    except ValueError as exc:
        raise Dhis2Error(f"Invalid `limit`: `{raw}`", status_code=400) from exc
    if limit < 1 or limit > 10000:
        raise Dhis2Error("`limit` must be between 1 and 10000", status_code=409, error_code="E1100")
    return json_response({"codes": [generate_uid() for _ in range(limit)]})


@router.get("/ping", summary="Liveness, as DHIS2 answers it", response_class=PlainTextResponse)
def ping() -> str:
    return "pong"
