"""Receipts: the published key, receipts of a record, and verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.consent.deps import OrgDep, SignerDep
from services.consent.receipts.models import ReceiptList, ReceiptPublic, VerifyRequest, VerifyResult
from services.consent.receipts.service import get_receipt, receipts_of, to_public, verify_receipt
from services.consent.records.service import get_record
from services.kernel.db import SessionDep

router = APIRouter(tags=["receipts (sandbox)"])


@router.get("/.well-known/jwks.json", summary="The public key receipts are signed with")
def jwks(signer: SignerDep) -> dict[str, Any]:
    return signer.jwks()


@router.get(
    "/v1/consent-records/{consentRecordId}/receipts",
    response_model=ReceiptList,
    summary="Signed receipts of a consent record (grant, withdrawal)",
)
def record_receipts(consentRecordId: str, session: SessionDep, _: OrgDep) -> ReceiptList:
    record = get_record(session, record_id=consentRecordId)
    return ReceiptList(receipts=[to_public(r) for r in receipts_of(session, record_id=record.id)])


@router.get(
    "/v1/receipts/{consentReceiptID}", response_model=ReceiptPublic, summary="One signed receipt"
)
def one_receipt(consentReceiptID: str, session: SessionDep, _: OrgDep) -> ReceiptPublic:
    return to_public(get_receipt(session, receipt_id=consentReceiptID))


@router.post(
    "/v1/receipts/verify",
    response_model=VerifyResult,
    summary="Check a receipt's signature against the service's key (no auth needed)",
)
def verify(body: VerifyRequest, signer: SignerDep) -> VerifyResult:
    return verify_receipt(token=body.jws, signer=signer)
