"""`POST /v1/decisions` (mediator only) and the decision audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.routing import Route

from services.consent.decisions.models import (
    DecisionAudit,
    DecisionList,
    DecisionPublic,
    DecisionRequest,
)
from services.consent.decisions.service import (
    audit_view,
    get_decision,
    list_decisions,
    make_decision,
)
from services.consent.deps import OrgDep, Page
from services.consent.runtime import ConsentRuntime
from services.kernel import openapi
from services.kernel.callers import is_mediator_key
from services.kernel.credentials import MEDIATOR_KEY_HEADER
from services.kernel.db import SessionDep
from services.kernel.errors import Unauthorized
from services.kernel.runtime import runtime_of

router = APIRouter(prefix="/v1", tags=["decisions (sandbox)"])

_REQUEST_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": DecisionRequest.model_json_schema()}},
    },
}  # the mediator key is its `security` (see `deps.SECURITY`)


async def post_decision(request: Request) -> Response:
    # The hot path: header check and body validation done here rather than through FastAPI's
    # dependency and body machinery, which costs more than the decision itself.
    runtime = runtime_of(request.app, ConsentRuntime)
    presented = request.headers.get(MEDIATOR_KEY_HEADER)
    if not is_mediator_key(presented, runtime.settings.sandbox_secret):
        raise Unauthorized("Only the interoperability layer may call this.", code="mediator-only")
    try:
        body = DecisionRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    answer = await make_decision(
        request=body,
        log=runtime.decision_log,
        secret=runtime.settings.sandbox_secret,
    )
    return Response(answer.model_dump_json(), media_type="application/json")


# Served by a plain Starlette route placed first (see `main.py`): FastAPI's per-request
# dependency and parameter handling costs more than the decision. This documents it.
router.add_api_route(
    "/decisions",
    post_decision,
    methods=["POST"],
    response_model=DecisionPublic,
    summary="Decide whether an exchange about a subject is permitted (mediator only)",
    openapi_extra=_REQUEST_SCHEMA,
    responses=openapi.errors(503),  # the decision could not be recorded, so it is not given
)
fast_route = Route("/v1/decisions", post_decision, methods=["POST"])


@router.get("/decisions", response_model=DecisionList, summary="Stored decisions (audit)")
def get_decisions(
    session: SessionDep,
    _: OrgDep,
    page: Annotated[Page, Depends()],
    consentRecordId: Annotated[str | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
) -> DecisionList:
    found = list_decisions(
        session,
        offset=page.offset,
        limit=page.limit,
        consent_record_id=consentRecordId,
        since=since,
    )
    return DecisionList(decisions=[audit_view(d) for d in found])


@router.get("/decisions/{decisionId}", response_model=DecisionAudit, summary="One stored decision")
def get_one_decision(decisionId: str, session: SessionDep, _: OrgDep) -> DecisionAudit:
    return audit_view(get_decision(session, decision_id=decisionId))
