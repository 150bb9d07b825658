"""Drafts and signatures of consent records (the individual's own signature over a revision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from services.consent.agreements.service import agreement_revision, get_agreement
from services.consent.hashing import canonical_json, sha256_hex
from services.consent.ids import new_id
from services.consent.individuals.service import resolve_individual
from services.consent.receipts.keys import Signer
from services.consent.records.models import (
    ArtefactInput,
    ConsentRecord,
    ConsentRecordCreate,
    ConsentRecordPublic,
    Signature,
    SignatureCreate,
    SignaturePublic,
)
from services.consent.records.reads import record_revision
from services.consent.records.service import (
    build_record,
    owned_record,
    store_new_record,
)
from services.consent.records.wire import record_data, signature_public, status_at, to_public
from services.consent.revisions.models import Revision
from services.consent.settings import ConsentSettings
from services.kernel.errors import BadRequest, Conflict, Forbidden
from services.kernel.time import as_utc, iso_millis_z, utcnow

DEFAULT_METHOD = "sandbox-individual-signature"


def _payload(fields: dict[str, Any]) -> str:
    return canonical_json(fields)


def _unsigned(
    *,
    verification_payload: str,
    signed_by: str,
    given: SignatureCreate | None,
    object_reference: str | None,
    at: datetime,
) -> Signature:
    method = (given.verificationMethod if given else None) or DEFAULT_METHOD
    payload_hash = sha256_hex(verification_payload)
    payload = _payload(
        {
            "verificationPayload": verification_payload,
            "verificationPayloadHash": payload_hash,
            "verificationMethod": method,
            "verificationArtifact": given.verificationArtifact if given else None,
            "verificationSignedBy": signed_by,
            "verificationJwsHeader": given.verificationJwsHeader if given else None,
            "timestamp": iso_millis_z(at),
            "signedWithoutObjectReference": object_reference is None,
            "objectType": "revision",
            "objectReference": object_reference,
        }
    )
    return Signature(
        id=new_id(),
        payload=payload,
        verification_method=method,
        verification_payload=verification_payload,
        verification_payload_hash=payload_hash,
        verification_artifact=given.verificationArtifact if given else None,
        verification_signed_by=signed_by,
        verification_signed_as=(given.verificationSignedAs if given else None) or "individual",
        verification_jws_header=given.verificationJwsHeader if given else None,
        timestamp=at,
        signed_without_object_reference=object_reference is None,
        object_type="revision",
        object_reference=object_reference,
    )


def draft(
    session: Session, *, agreement_id: str, individual_ref: str, revision_id: str | None
) -> tuple[ConsentRecordPublic, SignaturePublic]:
    """An unsaved record and its unsigned signature: nothing is stored."""
    agreement = get_agreement(session, agreement_id=agreement_id)
    individual = resolve_individual(session, reference=individual_ref)
    da_revision = agreement_revision(session, agreement=agreement, revision_id=revision_id)
    record = build_record(
        agreement=agreement, revision=da_revision, individual=individual, choices=None
    )
    # the spec's schema requires `id`, its description says a draft has none: an empty id
    public = to_public(record, session=session).model_copy(update={"id": ""})
    public.consentArtefact.status = "PENDING"
    signature = _unsigned(
        verification_payload=canonical_json(record_data(record)),
        signed_by=individual.subject,
        given=None,
        object_reference=None,
        at=utcnow(),
    )
    return public, signature_public(signature).model_copy(update={"id": ""})


def create_signed(
    session: Session,
    *,
    data: ConsentRecordCreate,
    given: SignatureCreate,
    individual_ref: str | None,
    signer: Signer,
    settings: ConsentSettings,
) -> tuple[ConsentRecord, Revision, Signature]:
    """Store a draft record with its signature; the draft's agreement hash must still match."""
    agreement = get_agreement(session, agreement_id=data.dataAgreement)
    individual = resolve_individual(session, reference=data.individual)
    if (
        individual_ref is not None
        and resolve_individual(session, reference=individual_ref).id != individual.id
    ):
        raise Forbidden("The draft names another individual.", code="not-your-record")
    da_revision = agreement_revision(
        session, agreement=agreement, revision_id=data.dataAgreementRevision
    )
    if data.dataAgreementRevisionHash != da_revision.serialized_hash:
        raise BadRequest(
            "dataAgreementRevisionHash does not match the data agreement revision.",
            code="revision-hash-mismatch",
        )
    if not data.optIn:
        raise BadRequest("A new consent record must opt in.", code="opt-in-required")
    record = build_record(
        agreement=agreement,
        revision=da_revision,
        individual=individual,
        choices=_draft_choices(data.consentArtefact),
    )
    revision = store_new_record(
        session, record=record, agreement=agreement, signer=signer, settings=settings
    )
    signature = _unsigned(
        verification_payload=revision.serialized_snapshot,
        signed_by=given.verificationSignedBy or individual.subject,
        given=given,
        object_reference=revision.id,
        at=utcnow(),
    )
    signature.consent_record_id = record.id
    if given.signature:
        signature.signature = given.signature
        record.state = "signed"
        record.signature_id = signature.id
    session.add(signature)
    session.add(record)
    session.commit()
    return record, revision, signature


def _draft_choices(raw: ArtefactInput | dict[str, Any] | None) -> ArtefactInput | None:
    """A posted-back draft carries its whole artefact; only the window choices are taken."""
    if raw is None:
        return None
    if isinstance(raw, ArtefactInput):
        return raw.model_copy(update={"status": None})
    picked = {k: raw[k] for k in ("consentStart", "consentExpiry", "dataRange") if raw.get(k)}
    try:
        return ArtefactInput.model_validate(picked)
    except ValidationError as exc:
        raise BadRequest(f"consentRecord.consentArtefact: {exc.errors()[0]['msg']}") from exc


def _signable(session: Session, record: ConsentRecord) -> Revision:
    status = status_at(record)
    if status in ("REVOKED", "EXPIRED"):
        raise Conflict(
            f"A {status.lower()} consent record cannot be signed.", code="invalid-transition"
        )
    revision = record_revision(session, record=record)
    if revision is None:  # pragma: no cover - every record has a revision
        raise Conflict("The record has no revision to sign.")
    return revision


def create_signature(
    session: Session, *, record_id: str, individual_ref: str, given: SignatureCreate
) -> Signature:
    """An unsigned signature over the record's current revision, ready for the individual."""
    record = owned_record(session, record_id=record_id, individual_ref=individual_ref)
    revision = _signable(session, record)
    signature = _unsigned(
        verification_payload=revision.serialized_snapshot,
        signed_by=given.verificationSignedBy or record.subject,
        given=given,
        object_reference=revision.id,
        at=utcnow(),
    )
    signature.consent_record_id = record.id
    if given.timestamp:
        try:
            signature.timestamp = as_utc(datetime.fromisoformat(given.timestamp))
        except ValueError as exc:
            raise BadRequest("signature.timestamp is not an ISO 8601 time.") from exc
    session.add(signature)
    session.commit()
    return signature


def sign(
    session: Session, *, record_id: str, individual_ref: str, given: SignatureCreate
) -> Signature:
    """Add the signature value to the record's pending signature; the record becomes signed."""
    record = owned_record(session, record_id=record_id, individual_ref=individual_ref)
    revision = _signable(session, record)
    if not given.signature:
        raise BadRequest("signature.signature is required.", code="signature-required")
    statement = (
        select(Signature)
        .where(Signature.consent_record_id == record.id)
        .order_by(col(Signature.timestamp).desc())
    )
    pending = next((s for s in session.exec(statement) if s.signature is None), None)
    if pending is None:
        raise Conflict(
            "No unsigned signature for this record; create one with POST first.",
            code="no-pending-signature",
        )
    if given.id is not None and given.id != pending.id:
        raise BadRequest("signature.id is not the pending signature.", code="id-mismatch")
    if pending.object_reference != revision.id:
        raise Conflict(
            "The record changed since this signature was prepared; create a new one.",
            code="stale-signature",
        )
    if given.verificationPayloadHash not in (None, pending.verification_payload_hash):
        raise BadRequest(
            "verificationPayloadHash does not match what was prepared for signing.",
            code="payload-hash-mismatch",
        )
    pending.signature = given.signature
    record.state = "signed"
    record.signature_id = pending.id
    record.updated_at = utcnow()
    session.add(pending)
    session.add(record)
    session.commit()
    return pending
