"""Right to be forgotten: remove personal data, keep a non-personal audit trail."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from services.consent.agreements.models import DataAgreement
from services.consent.decisions.models import Decision
from services.consent.decisions.store import subject_hash
from services.consent.individuals.models import Individual
from services.consent.individuals.service import resolve_individual
from services.consent.receipts.models import Receipt
from services.consent.records.models import ConsentRecord, Signature
from services.consent.revisions.models import Revision
from services.consent.revisions.service import ERASED
from services.consent.webhooks.models import WebhookDelivery
from services.consent.webhooks.outbox import enqueue_event


class ErasureResult(BaseModel):
    deletedConsentRecords: list[str]
    retainedConsentRecords: list[str]
    individualDeleted: bool
    decisionsUnlinked: int


def forget_individual(session: Session, *, individual_ref: str, secret: str) -> ErasureResult:
    """Delete records of forgettable agreements, their signatures and receipts; erase snapshots.

    Revisions keep their ids, timestamps and hashes; decisions keep everything but the subject
    link. Records under non-forgettable agreements are retained (and so is the individual).
    """
    individual = resolve_individual(session, reference=individual_ref)
    records = list(
        session.exec(select(ConsentRecord).where(ConsentRecord.individual_id == individual.id))
    )
    agreement_ids = {r.data_agreement_id for r in records}
    forgettable = {
        a.id: a.forgettable
        for a in session.exec(select(DataAgreement).where(col(DataAgreement.id).in_(agreement_ids)))
    }
    erased = [r for r in records if forgettable.get(r.data_agreement_id, True)]
    kept = [r for r in records if r not in erased]
    erased_ids = [r.id for r in erased]
    if erased_ids:
        session.execute(delete(Signature).where(col(Signature.consent_record_id).in_(erased_ids)))
        session.execute(delete(Receipt).where(col(Receipt.consent_record_id).in_(erased_ids)))
        session.execute(
            update(Revision)
            .where(col(Revision.object_id).in_(erased_ids))
            .values(serialized_snapshot=ERASED, authorized_by_individual=None)
        )
        session.execute(delete(ConsentRecord).where(col(ConsentRecord.id).in_(erased_ids)))
        for record_id in erased_ids:
            enqueue_event(
                session,
                event_type="consent.deleted",
                data={"consentRecordId": record_id},
                individual_id=None,
            )
    digests = {subject_hash(individual.subject, secret), subject_hash(individual.id, secret)}
    unlinked = session.execute(
        update(Decision).where(col(Decision.subject_hash).in_(digests)).values(subject_hash=None)
    )
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.individual_id) == individual.id)
        .values(individual_id=None)
    )
    individual_deleted = not kept
    if individual_deleted:
        session.execute(delete(Individual).where(col(Individual.id) == individual.id))
    session.commit()
    return ErasureResult(
        deletedConsentRecords=erased_ids,
        retainedConsentRecords=[r.id for r in kept],
        individualDeleted=individual_deleted,
        decisionsUnlinked=int(getattr(unlinked, "rowcount", 0) or 0),
    )
