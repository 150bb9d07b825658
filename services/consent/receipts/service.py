"""Issue receipts on grant and withdrawal; verify them against the published key."""

from __future__ import annotations

from typing import Any

import orjson
from joserfc.util import urlsafe_b64decode
from sqlmodel import Session, col, select

from services.consent.hashing import canonical_json
from services.consent.ids import check_id, new_id
from services.consent.receipts.keys import Signer
from services.consent.receipts.models import Receipt, ReceiptPublic, VerifyResult
from services.consent.settings import ConsentSettings
from services.kernel.errors import NotFound
from services.kernel.time import iso_millis_z, utcnow

KANTARA_VERSION = "KI-CR-v1.1.0"


def build_receipt(
    *,
    receipt_id: str,
    kind: str,
    record: Any,
    agreement: Any,
    settings: ConsentSettings,
) -> dict[str, Any]:
    """Kantara v1.1 fields, with ISO/IEC TS 27560 event fields; no national id, only the token."""
    now = utcnow()
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": settings.jurisdiction,
        "consentTimestamp": int(now.timestamp()),
        "collectionMethod": "Consent BB API (X-ConsentBB-IndividualId), sandbox",
        "consentReceiptID": receipt_id,
        "language": "en",
        "piiPrincipalId": record.subject,
        "piiControllers": [
            {
                "piiController": settings.controller_name,
                "piiControllerUrl": settings.controller_url,
                "onBehalf": False,
                "contact": "Data protection officer",
                "address": {"addressCountry": "XX"},
                "email": "dpo@dpi-sandbox.example",
                "phone": "+000000000",
            }
        ],
        "policyUrl": settings.policy_url,
        "services": [
            {
                "service": agreement.data_consumer,
                "purposes": [
                    {
                        "purpose": agreement.purpose,
                        "purposeCategory": [record.purpose_code],
                        "consentType": "EXPLICIT",
                        "piiCategory": list(record.data_categories),
                        "primaryPurpose": True,
                        "termination": f"On withdrawal or at {iso_millis_z(record.consent_expiry)}",
                        "thirdPartyDisclosure": True,
                        "thirdPartyName": agreement.data_consumer,
                    }
                ],
            }
        ],
        "sensitive": True,
        "spiCat": list(record.data_categories),
        "consentRecordId": record.id,
        "dataAgreementId": record.data_agreement_id,
        "dataAgreementRevisionHash": record.data_agreement_revision_hash,
        "dataProvider": agreement.data_provider,
        "event": kind,
        "consentStatus": "given" if kind == "grant" else "withdrawn",
    }


def issue_receipt(
    session: Session,
    *,
    kind: str,
    record: Any,
    agreement: Any,
    signer: Signer,
    settings: ConsentSettings,
) -> Receipt:
    receipt_id = new_id()
    body = build_receipt(
        receipt_id=receipt_id, kind=kind, record=record, agreement=agreement, settings=settings
    )
    receipt = Receipt(
        id=receipt_id,
        consent_record_id=record.id,
        individual_id=record.individual_id,
        kind=kind,
        jws=signer.sign(canonical_json(body).encode()),
        created_at=utcnow(),
    )
    session.add(receipt)
    return receipt


def _payload(token: str) -> dict[str, Any]:
    parts = token.split(".")
    decoded: dict[str, Any] = orjson.loads(urlsafe_b64decode(parts[1].encode()))
    return decoded


def to_public(receipt: Receipt) -> ReceiptPublic:
    return ReceiptPublic(
        consentReceiptID=receipt.id,
        consentRecordId=receipt.consent_record_id,
        kind="grant" if receipt.kind == "grant" else "withdrawal",
        jws=receipt.jws,
        receipt=_payload(receipt.jws),
    )


def get_receipt(session: Session, *, receipt_id: str) -> Receipt:
    receipt = session.get(Receipt, check_id(receipt_id, "consentReceiptID"))
    if receipt is None:
        raise NotFound(f"No receipt {receipt_id}.", code="receipt-not-found")
    return receipt


def receipts_of(session: Session, *, record_id: str) -> list[Receipt]:
    statement = (
        select(Receipt)
        .where(Receipt.consent_record_id == record_id)
        .order_by(col(Receipt.created_at), col(Receipt.id))
    )
    return list(session.exec(statement))


def verify_receipt(*, token: str, signer: Signer) -> VerifyResult:
    """Valid only if the JWS verifies with the service's key and its payload is a receipt."""
    try:
        payload = signer.verify(token.strip())
        receipt = orjson.loads(payload)
    except (ValueError, orjson.JSONDecodeError) as exc:
        return VerifyResult(valid=False, reason=str(exc))
    if not isinstance(receipt, dict) or "consentReceiptID" not in receipt:
        return VerifyResult(valid=False, reason="payload is not a consent receipt")
    return VerifyResult(valid=True, kid=signer.kid, receipt=receipt)
