"""Certificates, MOSIP-shaped: the ID system's own for download (key manager) and a partner's
upload (partner management)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from cryptography import x509
from fastapi import APIRouter, Query
from sqlmodel import Session

from services.id_registry.deps import NowDep, RuntimeDep
from services.id_registry.errors import MosipError, response_time
from services.id_registry.ida.keys import PARTNER, SIGN, ServerKeys
from services.id_registry.ida.sealed import PartnerCertificate
from services.id_registry.partners.models import CertificateUploadRequest, PartnerCertificateRow
from services.id_registry.partners.service import PartnerCache, get_partner
from services.kernel import openapi
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep
from services.kernel.time import iso_millis_z

keymanager_router = APIRouter(prefix="/v1/keymanager", tags=["certificates"])
router = APIRouter(prefix="/v1/partnermanager", tags=["certificates"])


def _answer(envelope_id: str, response: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": envelope_id,
        "version": "1.0",
        "responsetime": response_time(),
        "response": response,
        "errors": None,
    }


@keymanager_router.get(
    "/getCertificate",
    summary="The ID system's partner-encryption (PARTNER) or response-signing (SIGN) certificate",
    responses=openapi.errors(404),
)
def get_certificate(
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    applicationId: str = Query(max_length=32),
    referenceId: str = Query(default="", max_length=32),
) -> dict[str, Any]:
    pair = runtime.keys.get(session, now).by_reference(referenceId)
    if applicationId != "IDA" or pair is None:
        raise MosipError(
            "KER-KMS-002",
            f"ApplicationId or referenceId not found: use applicationId=IDA and referenceId "
            f"{PARTNER} or {SIGN}",
            status_code=404,
        )
    certificate = pair.certificate
    return _answer(
        "mosip.keymanager.certificate",
        {
            "certificate": pair.certificate_pem,
            "issuedAt": iso_millis_z(certificate.not_valid_before_utc),
            "expiryAt": iso_millis_z(certificate.not_valid_after_utc),
        },
    )


def store_certificate(
    *, session: Session, cache: PartnerCache, partner_id: str, pem: str, now: datetime
) -> tuple[str, x509.Certificate]:
    """Validate and keep a partner's certificate (replacing any earlier one)."""
    get_partner(session=session, partner_id=partner_id)
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
        PartnerCertificate.from_pem("check", pem)
    except ValueError as exc:
        raise MosipError(
            "IDA-MLC-009",
            f"Invalid Input Parameter - certificateData: {exc}",
            status_code=422,
        ) from None
    if certificate.not_valid_after_utc <= now:
        raise MosipError(
            "IDA-MLC-009", "Invalid Input Parameter - certificateData: expired", status_code=422
        )
    certificate_id = str(uuid.uuid4())
    row = session.get(PartnerCertificateRow, partner_id) or PartnerCertificateRow(
        partner_id=partner_id, certificate_id=certificate_id, certificate_pem=pem, uploaded_at=now
    )
    row.certificate_id, row.certificate_pem, row.uploaded_at = certificate_id, pem, now
    session.add(row)
    session.commit()
    cache.invalidate()
    return certificate_id, certificate


def upload(
    *,
    session: Session,
    cache: PartnerCache,
    keys: ServerKeys,
    body: CertificateUploadRequest,
    now: datetime,
) -> dict[str, Any]:
    data = body.request
    certificate_id, certificate = store_certificate(
        session=session, cache=cache, partner_id=data.partnerId, pem=data.certificateData, now=now
    )
    return _answer(
        "mosip.partnermanager.certificate.upload",
        {
            "certificateId": certificate_id,
            "signedCertificateData": keys.countersign(certificate, now),
        },
    )


@router.post(
    "/partners/certificate/upload",
    summary="Register a partner's certificate (verifies its Signature, encrypts its eKYC)",
    responses=openapi.errors(404),
)
def upload_route(
    body: CertificateUploadRequest,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: AdminDep,
) -> dict[str, Any]:
    keys = runtime.keys.get(session, now)
    return upload(session=session, cache=runtime.partners, keys=keys, body=body, now=now)
