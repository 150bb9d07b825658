"""Admin API for integrators: mock expectations, the OTP outbox and the audit of attempts."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.id_registry.controls import service
from services.id_registry.controls.models import ExpectationCreate, ExpectationPublic
from services.id_registry.deps import NowDep, RuntimeDep
from services.id_registry.ida.models import AuthAuditPublic, OtpMessagePublic
from services.kernel.credentials import AdminDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/v1", tags=["mock controls and audit (admin)"])


@router.post("/mock/expectations", status_code=201, summary="Force an error code or a delay")
def add_expectation(
    data: ExpectationCreate, runtime: RuntimeDep, session: SessionDep, now: NowDep, _: AdminDep
) -> ExpectationPublic:
    return service.add(session=session, cache=runtime.expectations, data=data, now=now)


@router.get("/mock/expectations", summary="List expectations")
def list_expectations(session: SessionDep, _: AdminDep) -> list[ExpectationPublic]:
    return service.list_all(session=session)


@router.delete("/mock/expectations", summary="Clear every expectation")
def clear_expectations(runtime: RuntimeDep, session: SessionDep, _: AdminDep) -> dict[str, int]:
    return {"deleted": service.clear(session=session, cache=runtime.expectations)}


@router.delete("/mock/expectations/{expectation_id}", status_code=204, summary="Remove one")
def remove_expectation(
    expectation_id: int, runtime: RuntimeDep, session: SessionDep, _: AdminDep
) -> None:
    service.remove(session=session, cache=runtime.expectations, expectation_id=expectation_id)


@router.get("/mock/otp-outbox", summary='OTPs "sent", newest first')
def otp_outbox(
    session: SessionDep,
    _: AdminDep,
    individualId: str | None = None,
    transactionID: str | None = None,
    partnerId: str | None = None,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=20, ge=1, le=1000),
) -> list[OtpMessagePublic]:
    rows = service.otp_messages(
        session=session,
        individual_id=individualId,
        transaction_id=transactionID,
        partner_id=partnerId,
        offset=offset,
        limit=limit,
    )
    return [
        OtpMessagePublic(
            id=row.id or 0,
            individualId=row.individual_id,
            partnerId=row.partner_id,
            transactionID=row.transaction_id,
            channels=row.channels.split(","),
            maskedMobile=row.masked_mobile,
            maskedEmail=row.masked_email,
            otp=row.otp,
            createdAt=row.created_at,
            expiresAt=row.expires_at,
            usedAt=row.used_at,
        )
        for row in rows
    ]


@router.get("/audit", summary="Audit of IDA attempts, newest first")
def audit(
    session: SessionDep,
    _: AdminDep,
    transactionID: str | None = None,
    partnerId: str | None = None,
    limit: int = Query(default=50, ge=1, le=1000),
) -> list[AuthAuditPublic]:
    rows = service.audit_entries(
        session=session, transaction_id=transactionID, partner_id=partnerId, limit=limit
    )
    return [
        AuthAuditPublic(
            id=row.id or 0,
            transactionID=row.transaction_id,
            partnerId=row.partner_id,
            requestType=row.request_type,
            authTypes=[t for t in row.auth_types.split(",") if t],
            individualIdType=row.individual_id_type,
            individualRef=row.individual_ref,
            status=row.status,
            errorCodes=[c for c in row.error_codes.split(",") if c],
            createdAt=row.created_at,
        )
        for row in rows
    ]
