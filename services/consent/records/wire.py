"""How a consent record reads: DEPA status at a time, its artefact, its serialized form."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session

from services.consent.agreements.models import DataAgreement, DataAgreementPublic
from services.consent.agreements.service import public_agreement
from services.consent.individuals.models import Individual
from services.consent.records.models import (
    ConsentArtefact,
    ConsentRecord,
    ConsentRecordPublic,
    Signature,
    SignaturePublic,
)
from services.consent.revisions.models import Revision, RevisionPublic
from services.kernel.time import iso_millis_z, utcnow

T = TypeVar("T")


def status_at(record: ConsentRecord, at: datetime | None = None) -> str:
    """DEPA status: stored ACTIVE/PAUSED/REVOKED, EXPIRED once past the validity window."""
    if not record.opt_in:
        return "REVOKED"
    if record.status == "PAUSED":
        return "PAUSED"
    if (at or utcnow()) >= record.consent_expiry:
        return "EXPIRED"
    return "ACTIVE"


def artefact_data(record: ConsentRecord, at: datetime | None = None) -> dict[str, Any]:
    return {
        "status": status_at(record, at),
        "consentStart": iso_millis_z(record.consent_start),
        "consentExpiry": iso_millis_z(record.consent_expiry),
        "consentMode": record.consent_mode,
        "fetchType": record.fetch_type,
        "Frequency": record.frequency,
        "DataLife": record.data_life,
        "dataRange": record.data_range,
        "DataConsumer": {"id": record.data_consumer, "type": "DATA_CONSUMER"},
        "DataProvider": {"id": record.data_provider, "type": "DATA_PROVIDER"},
        "Customer": {"id": record.subject},
        "Purpose": {"code": record.purpose_code, "text": record.purpose_text},
        "dataCategories": list(record.data_categories),
    }


def record_data(record: ConsentRecord) -> dict[str, Any]:
    """What a record revision serializes: the spec fields and the stored artefact."""
    artefact = artefact_data(record)
    artefact["status"] = "REVOKED" if not record.opt_in else record.status
    return {
        "dataAgreement": record.data_agreement_id,
        "dataAgreementRevision": record.data_agreement_revision_id,
        "dataAgreementRevisionHash": record.data_agreement_revision_hash,
        "individual": record.individual_id,
        "optIn": record.opt_in,
        "consentArtefact": artefact,
    }


def to_public(
    record: ConsentRecord, *, session: Session, at: datetime | None = None
) -> ConsentRecordPublic:
    """The spec's `ConsentRecord`: agreement, revision, individual and signature as objects."""
    artefact = artefact_data(record, at)
    artefact["signature"] = record.artefact_signature
    agreement = session.get(DataAgreement, record.data_agreement_id)
    revision = _get(session, Revision, record.data_agreement_revision_id)
    individual = _get(session, Individual, record.individual_id)
    signature = _get(session, Signature, record.signature_id)
    return ConsentRecordPublic(
        id=record.id,
        dataAgreement=_agreement(session, agreement),
        dataAgreementRevision=_revision(session, revision),
        dataAgreementRevisionHash=record.data_agreement_revision_hash,
        individual=individual.public() if individual else None,
        optIn=record.opt_in,
        state="signed" if record.state == "signed" else "unsigned",
        signature=signature_public(signature) if signature else None,
        consentArtefact=ConsentArtefact.model_validate(artefact),
    )


def _get(session: Session, model: type[T], key: str | None) -> T | None:
    return None if key is None else session.get(model, key)


def _revision(session: Session, revision: Revision | None) -> RevisionPublic | None:
    if revision is None:
        return None
    return revision.public(successor=_get(session, Revision, revision.successor_id))


def _agreement(session: Session, agreement: DataAgreement | None) -> DataAgreementPublic | None:
    return None if agreement is None else public_agreement(session, agreement)


def signature_public(signature: Signature) -> SignaturePublic:
    return SignaturePublic(
        id=signature.id,
        payload=signature.payload,
        signature=signature.signature or "",  # required by the spec: empty until signed
        verificationMethod=signature.verification_method,
        verificationPayload=signature.verification_payload,
        verificationPayloadHash=signature.verification_payload_hash,
        verificationArtifact=signature.verification_artifact,
        verificationSignedBy=signature.verification_signed_by,
        verificationSignedAs=signature.verification_signed_as,
        verificationJwsHeader=signature.verification_jws_header,
        timestamp=iso_millis_z(signature.timestamp),
        signedWithoutObjectReference=signature.signed_without_object_reference,
        objectType=signature.object_type,
        objectReference=signature.object_reference,
    )
