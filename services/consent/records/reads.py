"""Reading consent records: an individual's current record, filtered lists, latest revision."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.consent.agreements.service import get_agreement
from services.consent.individuals.service import resolve_individual
from services.consent.records.models import ConsentRecord
from services.consent.revisions.models import Revision
from services.consent.revisions.service import latest_revision
from services.kernel.errors import NotFound


def current_record(session: Session, *, agreement_id: str, individual_ref: str) -> ConsentRecord:
    agreement = get_agreement(session, agreement_id=agreement_id)
    individual = resolve_individual(session, reference=individual_ref)
    record = session.exec(
        select(ConsentRecord).where(
            ConsentRecord.individual_id == individual.id,
            ConsentRecord.data_agreement_id == agreement.id,
        )
    ).first()
    if record is None:
        raise NotFound(
            f"No consent record for data agreement {agreement.id}.",
            code="consent-record-not-found",
        )
    return record


def list_records(
    session: Session,
    *,
    offset: int,
    limit: int,
    individual_id: str | None = None,
    agreement_id: str | None = None,
    data_consumer: str | None = None,
    purpose_code: str | None = None,
    opt_in: bool | None = None,
) -> list[ConsentRecord]:
    statement = select(ConsentRecord)
    if individual_id is not None:
        statement = statement.where(ConsentRecord.individual_id == individual_id)
    if agreement_id is not None:
        statement = statement.where(ConsentRecord.data_agreement_id == agreement_id)
    if data_consumer is not None:
        statement = statement.where(ConsentRecord.data_consumer == data_consumer)
    if purpose_code is not None:
        statement = statement.where(ConsentRecord.purpose_code == purpose_code)
    if opt_in is not None:
        statement = statement.where(ConsentRecord.opt_in == opt_in)
    statement = (
        statement.order_by(col(ConsentRecord.created_at), col(ConsentRecord.id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement))


def record_revision(session: Session, *, record: ConsentRecord) -> Revision | None:
    return latest_revision(session, object_id=record.id)
