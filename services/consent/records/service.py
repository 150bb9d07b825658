"""Consent records: create, read, update (withdrawal is `optIn: false`), list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.consent.agreements.models import DataAgreement
from services.consent.agreements.service import agreement_revision, get_agreement
from services.consent.hashing import canonical_json
from services.consent.ids import check_id, new_id
from services.consent.individuals.models import Individual
from services.consent.individuals.service import resolve_individual
from services.consent.receipts.keys import Signer
from services.consent.receipts.service import issue_receipt
from services.consent.records.models import (
    ArtefactInput,
    ConsentRecord,
    ConsentRecordUpdate,
    Signature,
)
from services.consent.records.unchanged import refuse_changes
from services.consent.records.wire import artefact_data, record_data
from services.consent.revisions.models import Revision
from services.consent.revisions.service import create_revision
from services.consent.settings import ConsentSettings
from services.consent.webhooks.outbox import enqueue_event
from services.kernel.errors import BadRequest, Conflict, Forbidden, NotFound
from services.kernel.time import as_utc, utcnow

SCHEMA = "consentrecord"


def get_record(session: Session, *, record_id: str) -> ConsentRecord:
    record = session.get(ConsentRecord, check_id(record_id, "consentRecordId"))
    if record is None:
        raise NotFound(f"No consent record {record_id}.", code="consent-record-not-found")
    return record


def owned_record(session: Session, *, record_id: str, individual_ref: str) -> ConsentRecord:
    record = get_record(session, record_id=record_id)
    individual = resolve_individual(session, reference=individual_ref)
    if record.individual_id != individual.id:
        raise Forbidden(
            "This consent record belongs to another individual.", code="not-your-record"
        )
    return record


def build_record(
    *,
    agreement: DataAgreement,
    revision: Revision,
    individual: Individual,
    choices: ArtefactInput | None,
) -> ConsentRecord:
    """A record (not yet stored) with its artefact window validated."""
    template = agreement.artefact_template
    now = utcnow()
    start = as_utc(choices.consentStart) if choices and choices.consentStart else now
    expiry = (
        as_utc(choices.consentExpiry)
        if choices and choices.consentExpiry
        else start + timedelta(days=int(template.get("validityDays", 365)))
    )
    if expiry <= start:
        raise BadRequest("consentExpiry must be after consentStart.", code="invalid-window")
    if expiry <= now:
        raise BadRequest("The validity window has already expired.", code="expired-window")
    return ConsentRecord(
        id=new_id(),
        data_agreement_id=agreement.id,
        data_agreement_revision_id=revision.id,
        data_agreement_revision_hash=revision.serialized_hash,
        individual_id=individual.id,
        subject=individual.subject,
        opt_in=True,
        state="unsigned",
        status=(choices.status if choices and choices.status else "ACTIVE"),
        consent_start=start,
        consent_expiry=expiry,
        consent_mode=str(template.get("consentMode", "QUERY")),
        fetch_type=str(template.get("fetchType", "PERIODIC")),
        frequency=dict(template.get("Frequency") or {"unit": "DAY", "value": 10}),
        data_life=dict(template.get("DataLife") or {"unit": "DAY", "value": 0}),
        data_range=(
            choices.dataRange.model_dump(by_alias=True) if choices and choices.dataRange else None
        ),
        data_consumer=agreement.data_consumer,
        data_provider=agreement.data_provider,
        purpose_code=agreement.purpose_code,
        purpose_text=agreement.purpose,
        data_categories=agreement.categories,
        created_at=now,
        updated_at=now,
    )


def _after_change(
    session: Session,
    *,
    record: ConsentRecord,
    agreement: DataAgreement,
    receipt_kind: str | None,
    signer: Signer,
    settings: ConsentSettings,
    predecessor_signature: str | None = None,
) -> Revision:
    """Sign the artefact, append the revision, issue a receipt and queue the webhook event."""
    record.artefact_signature = signer.sign_detached(canonical_json(artefact_data(record)).encode())
    session.add(record)
    session.flush()
    revision = create_revision(
        session,
        schema_name=SCHEMA,
        object_id=record.id,
        object_data=record_data(record),
        authorized_by_individual=record.individual_id,
        predecessor_signature=predecessor_signature,
    )
    if receipt_kind is not None:
        issue_receipt(
            session,
            kind=receipt_kind,
            record=record,
            agreement=agreement,
            signer=signer,
            settings=settings,
        )
        event = "consent.allowed" if receipt_kind == "grant" else "consent.disallowed"
        enqueue_event(
            session,
            event_type=event,
            data={"consentRecordId": record.id, "dataAgreementId": record.data_agreement_id},
            individual_id=record.individual_id,
        )
    return revision


def _existing(session: Session, record: ConsentRecord) -> str | None:
    return session.exec(
        select(ConsentRecord.id).where(
            ConsentRecord.individual_id == record.individual_id,
            ConsentRecord.data_agreement_id == record.data_agreement_id,
        )
    ).first()


def _exists(record_id: str | None) -> Conflict:
    return Conflict(
        f"Consent record {record_id} already exists for this agreement; update it instead.",
        code="consent-record-exists",
    )


def store_new_record(
    session: Session,
    *,
    record: ConsentRecord,
    agreement: DataAgreement,
    signer: Signer,
    settings: ConsentSettings,
) -> Revision:
    existing = _existing(session, record)
    if existing is not None:
        raise _exists(existing)
    session.add(record)
    try:
        session.flush()  # a concurrent grant that got in first is a 409 here, not a 500 later
    except IntegrityError:
        session.rollback()
        raise _exists(_existing(session, record)) from None
    return _after_change(
        session,
        record=record,
        agreement=agreement,
        receipt_kind="grant",
        signer=signer,
        settings=settings,
    )


def create_record(
    session: Session,
    *,
    agreement_id: str,
    individual_ref: str,
    revision_id: str | None,
    choices: ArtefactInput | None,
    signer: Signer,
    settings: ConsentSettings,
) -> tuple[ConsentRecord, Revision]:
    agreement = get_agreement(session, agreement_id=agreement_id)
    if not agreement.active:
        raise Conflict(f"Data agreement {agreement.id} is not active.", code="agreement-inactive")
    individual = resolve_individual(session, reference=individual_ref)
    da_revision = agreement_revision(session, agreement=agreement, revision_id=revision_id)
    record = build_record(
        agreement=agreement, revision=da_revision, individual=individual, choices=choices
    )
    revision = store_new_record(
        session, record=record, agreement=agreement, signer=signer, settings=settings
    )
    session.commit()
    return record, revision


def update_record(
    session: Session,
    *,
    record_id: str,
    individual_ref: str,
    data: ConsentRecordUpdate,
    signer: Signer,
    settings: ConsentSettings,
) -> tuple[ConsentRecord, Revision]:
    """Restricted update; any change invalidates the record's signature (state `unsigned`)."""
    record = owned_record(session, record_id=record_id, individual_ref=individual_ref)
    if data.id is not None and data.id != record.id:
        raise BadRequest("consentRecord.id does not match the path.", code="id-mismatch")
    refuse_changes(record, data)
    choices = data.consentArtefact or ArtefactInput()
    if data.optIn is None and choices.status is None and choices.consentExpiry is None:
        raise BadRequest("Nothing to update.", code="empty-update")
    receipt_kind = _apply_update(record, data.optIn, choices)
    agreement = session.get(DataAgreement, record.data_agreement_id)
    if agreement is None:  # pragma: no cover - agreements are soft-deleted
        raise NotFound("The record's data agreement is gone.")
    previous_signature = _signature_value(session, record)
    record.state = "unsigned"
    record.signature_id = None
    record.updated_at = utcnow()
    revision = _after_change(
        session,
        record=record,
        agreement=agreement,
        receipt_kind=receipt_kind,
        signer=signer,
        settings=settings,
        predecessor_signature=previous_signature,
    )
    session.commit()
    return record, revision


def _apply_update(record: ConsentRecord, opt_in: bool | None, choices: ArtefactInput) -> str | None:
    receipt_kind: str | None = None
    if opt_in is False:
        if not record.opt_in:
            raise Conflict("The consent is already withdrawn.", code="already-withdrawn")
        record.opt_in = False
        record.status = "REVOKED"
        receipt_kind = "withdrawal"
    elif opt_in is True and not record.opt_in:
        record.opt_in = True
        record.status = "ACTIVE"
        receipt_kind = "grant"
    if choices.consentExpiry is not None:
        expiry = as_utc(choices.consentExpiry)
        if expiry <= record.consent_start or expiry <= utcnow():
            raise BadRequest(
                "consentExpiry must be in the future and after consentStart.",
                code="expired-window",
            )
        record.consent_expiry = expiry
    if choices.status is not None:
        if not record.opt_in:
            raise Conflict(
                "A withdrawn consent cannot be paused or resumed; opt in again first.",
                code="invalid-transition",
            )
        record.status = choices.status
    if record.opt_in and record.consent_expiry <= utcnow():
        raise BadRequest(
            "The validity window has expired; give a new consentExpiry.", code="expired-window"
        )
    return receipt_kind


def _signature_value(session: Session, record: ConsentRecord) -> str | None:
    if record.signature_id is None:
        return None
    signature = session.get(Signature, record.signature_id)
    return signature.signature if signature else None
