"""`GET /fhir/Consent/{id}`: a consent record as FHIR R4 Consent."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.consent.deps import OrgDep, SettingsDep
from services.consent.fhir.service import to_fhir
from services.consent.records.service import get_record
from services.kernel.db import SessionDep
from services.kernel.fhir_outcome import refuse_read_parameters, require_json

router = APIRouter(prefix="/fhir", tags=["FHIR R4 (sandbox)"])
FHIR_JSON = "application/fhir+json"


@router.get(
    "/Consent/{id}",
    summary="A consent record as a FHIR R4 Consent resource",
    responses={200: {"content": {FHIR_JSON: {}}}},
)
def fhir_consent(
    id: str, request: Request, session: SessionDep, settings: SettingsDep, _: OrgDep
) -> Response:
    require_json(request)
    refuse_read_parameters(request)  # `_summary`, `_elements`: named, never ignored
    resource = to_fhir(
        get_record(session, record_id=id),
        policy_url=settings.policy_url,
        controller=settings.controller_name,
    )
    return Response(orjson.dumps(resource), media_type=FHIR_JSON)
