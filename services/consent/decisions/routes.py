"""`POST /v1/decisions` (mediator only) and the decision audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.consent.auth import OrgDep
from services.consent.common import Page
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
from services.kernel.credentials import MediatorDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/v1", tags=["decisions (sandbox)"])


@router.post(
    "/decisions",
    response_model=DecisionPublic,
    summary="Decide whether an exchange about a subject is permitted (mediator only)",
)
async def post_decision(body: DecisionRequest, request: Request, _: MediatorDep) -> Response:
    answer = await make_decision(
        request=body,
        engine=request.app.state.database.engine,
        log=request.app.state.decision_log,
        secret=request.app.state.settings.sandbox_secret,
    )
    # Built directly: the model is already validated and this is the hot path.
    return Response(answer.model_dump_json(), media_type="application/json")


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
