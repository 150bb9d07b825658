"""IDA endpoints: `/idauthentication/v1/{auth,kyc,otp}/{MISP-LK}/{Partner-ID}/{API-Key}`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from services.id_registry.controls.service import ExpectationCache
from services.id_registry.deps import db_time
from services.id_registry.errors import response_time
from services.id_registry.ida import service
from services.id_registry.ida.envelope import (
    AUTH_ID,
    KYC_ID,
    OTP_ID,
    AuthEnvelope,
    KycEnvelope,
    OtpEnvelope,
    parse_envelope,
)
from services.id_registry.partners.service import PartnerCache, check_partner
from services.id_registry.settings import IdRegistrySettings
from services.kernel.db import Database

router = APIRouter(prefix="/idauthentication/v1", tags=["IDA (MOSIP ID Authentication)"])
T = TypeVar("T")

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "IDA envelope, plaintext (real MOSIP encrypts `request`).",
    }
}


async def _transaction(
    http: Request,
    *,
    license_key: str,
    partner_id: str,
    api_key: str,
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    run: Callable[[Session, service.IdaContext], T],
) -> T:
    """Partner check, mock expectation (delay, forced error), then `run` in a worker thread."""
    state = http.app.state
    settings: IdRegistrySettings = state.settings
    database: Database = state.database
    partners: PartnerCache = state.partners
    expectations: ExpectationCache = state.expectations

    def prepare() -> tuple[service.IdaContext, int]:
        with database.session() as session:
            partner = check_partner(
                cache=partners,
                session=session,
                license_key=license_key,
                expected_license_key=settings.misp_license_key,
                partner_id=partner_id,
                api_key=api_key,
                envelope_id=envelope.id,
            )
            forced = expectations.match(
                session, individual_id=envelope.individualId, partner_id=partner_id
            )
        ctx = service.IdaContext(
            partner=partner,
            secret=settings.token_secret(),
            now=db_time(state.clock()),
            forced=forced,
        )
        return ctx, forced.delayMs if forced else 0

    ctx, delay_ms = await to_thread.run_sync(prepare)
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)

    def execute() -> T:
        with database.session() as session:
            return run(session, ctx)

    return await to_thread.run_sync(execute)


def _envelope(
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    body: dict[str, Any] | None,
    errors: list[Any],
) -> JSONResponse:
    return JSONResponse(
        {
            "id": envelope.id,
            "version": envelope.version,
            "responseTime": response_time(),
            "transactionID": envelope.transactionID,
            "response": body,
            "errors": errors or None,
        }
    )


@router.post(
    "/auth/{misp_license_key}/{partner_id}/{api_key}",
    summary="Authenticate (demographic and/or OTP); HTTP 200 with authStatus",
    openapi_extra=_BODY,
)
async def auth(
    misp_license_key: str, partner_id: str, api_key: str, request: Request
) -> JSONResponse:
    envelope = parse_envelope(await request.body(), AuthEnvelope, AUTH_ID)
    outcome = await _transaction(
        request,
        license_key=misp_license_key,
        partner_id=partner_id,
        api_key=api_key,
        envelope=envelope,
        run=lambda session, ctx: service.authenticate(session=session, ctx=ctx, envelope=envelope),
    )
    body: dict[str, Any] = {"authStatus": outcome.ok}
    if outcome.token:
        body["authToken"] = outcome.token
    return _envelope(envelope, body, outcome.errors)


@router.post(
    "/kyc/{misp_license_key}/{partner_id}/{api_key}",
    summary="eKYC: authenticate and return the attributes the partner's policy allows",
    openapi_extra=_BODY,
)
async def kyc(
    misp_license_key: str, partner_id: str, api_key: str, request: Request
) -> JSONResponse:
    envelope = parse_envelope(await request.body(), KycEnvelope, KYC_ID)
    outcome = await _transaction(
        request,
        license_key=misp_license_key,
        partner_id=partner_id,
        api_key=api_key,
        envelope=envelope,
        run=lambda session, ctx: service.authenticate(session=session, ctx=ctx, envelope=envelope),
    )
    body = {"kycStatus": outcome.ok, "authToken": outcome.token, "identity": outcome.identity}
    return _envelope(envelope, body, outcome.errors)


@router.post(
    "/otp/{misp_license_key}/{partner_id}/{api_key}",
    summary="Send an OTP (to the sandbox's OTP outbox)",
    openapi_extra=_BODY,
)
async def otp(
    misp_license_key: str, partner_id: str, api_key: str, request: Request
) -> JSONResponse:
    envelope = parse_envelope(await request.body(), OtpEnvelope, OTP_ID)
    ttl = request.app.state.settings.otp_ttl_seconds
    outcome = await _transaction(
        request,
        license_key=misp_license_key,
        partner_id=partner_id,
        api_key=api_key,
        envelope=envelope,
        run=lambda session, ctx: service.request_otp(
            session=session, ctx=ctx, envelope=envelope, ttl_seconds=ttl
        ),
    )
    body = outcome.masked if outcome.ok else None
    return _envelope(envelope, body, outcome.errors)
