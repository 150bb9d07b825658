"""`GET /api/immunisationStatus`: the consent-required provider service `immunisation-status`.

Reached only through the mediator (`/r1/DPI/GOV/MOH/hmis/immunisation-status/immunisationStatus`),
which has already checked the consumer's access right and the person's consent and replaced the
consumer's token in `X-DPI-Subject` with this platform's own token for the person.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.kernel.callers import mediated_identity
from services.kernel.db import DatabaseDep
from services.sectoral_platform.dhis2.endpoints import sandbox_parameters
from services.sectoral_platform.dhis2.web import json_response
from services.sectoral_platform.errors import Dhis2Error, not_found
from services.sectoral_platform.sharing.service import immunisation_status

router = APIRouter(prefix="/api", tags=["sharing"], dependencies=[Depends(sandbox_parameters())])


@router.get("/immunisationStatus", summary="Immunisation status of the person in X-DPI-Subject")
async def get_immunisation_status(request: Request, database: DatabaseDep) -> Response:
    identity = mediated_identity(request)
    if identity is None:
        raise Dhis2Error("Only callable through the interoperability layer", status_code=401)
    client, token = identity.client, identity.subject
    if not token:
        raise Dhis2Error("X-DPI-Subject is required", status_code=400)
    status = await run_in_threadpool(
        lambda: immunisation_status(engine=database.engine, token=token)
    )
    if status is None:
        raise not_found("No person with this subject token is registered in the health sector.")
    return json_response({"requestedBy": client, **status})
