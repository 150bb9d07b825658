"""The fields of a record an update can only restate: given with another value, refused by name
(400 `immutable-field`), never ignored as if applied."""

from __future__ import annotations

from services.consent.records.models import ConsentRecord, ConsentRecordUpdate
from services.kernel.errors import BadRequest

_KEPT = "is kept by the consent service"
_SIGNATURE = "changes through PUT .../consent-record/{id}/signature/"


def refuse_changes(record: ConsentRecord, data: ConsentRecordUpdate) -> None:
    """Raise `BadRequest` naming the first field `data` gives with a value other than the
    record's own (as a read of it shows), or an artefact window (chosen at consent)."""
    state = "signed" if record.state == "signed" else "unsigned"
    current = {
        "dataAgreement": (data.dataAgreement, record.data_agreement_id, "cannot change"),
        "dataAgreementRevision": (
            data.dataAgreementRevision,
            record.data_agreement_revision_id,
            "cannot change",
        ),
        "dataAgreementRevisionHash": (
            data.dataAgreementRevisionHash,
            record.data_agreement_revision_hash,
            "cannot change",
        ),
        "individual": (data.individual, record.individual_id, "cannot change"),
        "state": (data.state, state, _KEPT),
        "signature": (data.signature, record.signature_id, _SIGNATURE),
    }
    for name, (given, value, why) in current.items():
        if given is not None and given != value:
            raise BadRequest(
                f"consentRecord.{name} {why}: given {given!r}, the record's is {value!r}.",
                code="immutable-field",
            )
    choices = data.consentArtefact
    if choices is not None and (choices.consentStart is not None or choices.dataRange is not None):
        raise BadRequest(
            "Only optIn, consentArtefact.status and consentArtefact.consentExpiry may change.",
            code="immutable-field",
        )
