"""DHIS2's task endpoints for `async=true` data value imports."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.sectoral_platform.aggregate.jobs import JOB_TYPE
from services.sectoral_platform.auth.deps import CurrentUserDep
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY
from services.sectoral_platform.dhis2.endpoints import check_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import not_found
from services.sectoral_platform.runtime import RuntimeDep

router = APIRouter(
    prefix="/api/system", tags=["aggregate"], dependencies=[Depends(check_parameters)]
)


def _type(job_type: str) -> None:
    if job_type != JOB_TYPE:
        raise not_found(f"No tasks of type `{job_type}` are kept here", None)


@router.get("/tasks/{job_type}/{uid}", summary="Notifications of an async data value import")
def task_notifications(
    job_type: str, uid: str, runtime: RuntimeDep, user: CurrentUserDep
) -> Response:
    _type(job_type)
    job = runtime.value_set_jobs.mine(uid, user.uid, SUPERUSER_AUTHORITY in user.authorities)
    return json_response(job.notifications())


@router.get("/taskSummaries/{job_type}/{uid}", summary="The ImportSummary of an async import")
def task_summary(job_type: str, uid: str, runtime: RuntimeDep, user: CurrentUserDep) -> Response:
    _type(job_type)
    job = runtime.value_set_jobs.mine(uid, user.uid, SUPERUSER_AUTHORITY in user.authorities)
    if job.summary is None:
        raise not_found(f"The summary of job `{uid}` is not available yet", None)
    return json_response(job.summary)
