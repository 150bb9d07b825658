"""How a consent record reads: DEPA status at a time, its artefact, its serialized form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.consent.common import iso, utcnow
from services.consent.records.models import ConsentArtefact, ConsentRecord, ConsentRecordPublic


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
        "consentStart": iso(record.consent_start),
        "consentExpiry": iso(record.consent_expiry),
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


def to_public(record: ConsentRecord, at: datetime | None = None) -> ConsentRecordPublic:
    artefact = artefact_data(record, at)
    artefact["signature"] = record.artefact_signature
    return ConsentRecordPublic(
        id=record.id,
        dataAgreement=record.data_agreement_id,
        dataAgreementRevision=record.data_agreement_revision_id,
        dataAgreementRevisionHash=record.data_agreement_revision_hash,
        individual=record.individual_id,
        optIn=record.opt_in,
        state="signed" if record.state == "signed" else "unsigned",
        signature=record.signature_id,
        consentArtefact=ConsentArtefact.model_validate(artefact),
    )
