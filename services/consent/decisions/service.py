"""Answer a decision and store it; list and read stored decisions for audit."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from services.consent.decisions.engine import decide
from services.consent.decisions.log import DecisionLog
from services.consent.decisions.models import (
    Decision,
    DecisionAudit,
    DecisionPublic,
    DecisionRequest,
)
from services.consent.decisions.store import entry, subject_hash
from services.consent.ids import check_id, time_ordered_id
from services.kernel.errors import NotFound
from services.kernel.time import as_utc, iso_millis_z, utcnow


async def make_decision(
    *, request: DecisionRequest, log: DecisionLog, secret: str
) -> DecisionPublic:
    """Read the subject's records now (so a withdrawal counts at once), decide, then log."""
    now = utcnow()
    at = as_utc(request.at) if request.at is not None else now
    outcome = decide(
        log.store.candidates(request.subject),
        consumer=request.dataConsumer,
        provider=request.dataProvider,
        purpose=request.purpose,
        categories=request.dataCategories,
        at=at,
    )
    decision_id = time_ordered_id()
    await log.record(
        entry(
            decision_id=decision_id,
            subject_digest=subject_hash(request.subject, secret),
            consumer=request.dataConsumer,
            provider=request.dataProvider,
            purpose=request.purpose,
            categories=list(request.dataCategories),
            outcome=outcome,
            at=at,
            now=now,
        )
    )
    return DecisionPublic(
        decision="permit" if outcome.decision == "permit" else "deny",
        decisionId=decision_id,
        consentRecordId=outcome.record_id,
        reason=outcome.reason,
        reasonCode=outcome.code,
    )


def audit_view(decision: Decision) -> DecisionAudit:
    return DecisionAudit(
        decisionId=decision.id,
        decision=decision.decision,
        reasonCode=decision.reason_code,
        reason=decision.reason,
        consentRecordId=decision.consent_record_id,
        dataConsumer=decision.data_consumer,
        dataProvider=decision.data_provider,
        purpose=decision.purpose,
        dataCategories=list(decision.data_categories),
        at=iso_millis_z(decision.decided_at) or "",
        recordedAt=iso_millis_z(decision.created_at) or "",
        subjectLinked=decision.subject_hash is not None,
    )


def get_decision(session: Session, *, decision_id: str) -> Decision:
    decision = session.get(Decision, check_id(decision_id, "decisionId"))
    if decision is None:
        raise NotFound(f"No decision {decision_id}.", code="decision-not-found")
    return decision


def list_decisions(
    session: Session,
    *,
    offset: int,
    limit: int,
    consent_record_id: str | None = None,
    since: datetime | None = None,
) -> list[Decision]:
    statement = select(Decision)
    if consent_record_id is not None:
        statement = statement.where(Decision.consent_record_id == consent_record_id)
    if since is not None:
        statement = statement.where(col(Decision.created_at) >= as_utc(since))
    statement = statement.order_by(col(Decision.id)).offset(offset).limit(limit)
    return list(session.exec(statement))
