"""IDA endpoints: `/idauthentication/v1/{auth,kyc,otp}/{MISP-LK}/{Partner-ID}/{API-Key}`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from services.id_registry.controls.models import ExpectationPublic
from services.id_registry.controls.service import match
from services.id_registry.errors import MosipError, response_time
from services.id_registry.ida import service, store
from services.id_registry.ida.envelope import (
    AUTH_ID,
    KYC_ID,
    OTP_ID,
    AuthEnvelope,
    KycEnvelope,
    OtpEnvelope,
    parse_envelope,
)
from services.id_registry.ida.gate import admit, is_sealed
from services.id_registry.ida.keys import ServerKeys
from services.id_registry.ida.sealed import response_signature, seal_for
from services.id_registry.ida.wire import OrjsonResponse, header, read_body
from services.id_registry.partners.service import ActivePartner, check_partner
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import runtime_of
from services.kernel.time import as_utc


class DirectRoute(APIRoute):
    """Calls the endpoint with the request itself. IDA endpoints parse their own body and take no
    dependencies, so FastAPI's per-request dependency solving and body handling are pure cost;
    the route stays an `APIRoute`, so it is still documented in the OpenAPI schema."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


router = APIRouter(
    prefix="/idauthentication/v1",
    tags=["IDA (MOSIP ID Authentication)"],
    route_class=DirectRoute,
)
T = TypeVar("T")
E = TypeVar("E", AuthEnvelope, KycEnvelope, OtpEnvelope)
A = TypeVar("A", AuthEnvelope, KycEnvelope)

_PATH_PARAMETERS = [
    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    for name in ("misp_license_key", "partner_id", "api_key")
]
# Path segments are read from `request.path_params`: declaring them as arguments makes FastAPI
# validate three strings on every call, a measurable share of an authentication's cost.
_BODY = {
    "parameters": _PATH_PARAMETERS,
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "IDA envelope: `request` encrypted (with `requestSessionKey`, "
        "`requestHMAC`, `thumbprint` and a `Signature` header), or plain where the policy allows.",
    },
}


async def _load_partners(
    ida: IdRegistryRuntime,
) -> tuple[dict[str, ActivePartner], list[ExpectationPublic]]:
    """The partners and the mock expectations, read from the database when not cached."""
    cached, cached_rows = ida.partners.loaded(), ida.expectations.loaded()
    if cached is not None and cached_rows is not None:
        return cached, cached_rows
    database = ida.database

    def load() -> tuple[dict[str, ActivePartner], list[ExpectationPublic]]:
        with database.session() as session:
            return ida.partners.all(session), ida.expectations.rows(session)

    return await to_thread.run_sync(load)


def _partner(
    ida: IdRegistryRuntime,
    http: Request,
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    known: dict[str, ActivePartner],
) -> ActivePartner:
    """The partner of the path, checked in MOSIP's order."""
    path = http.path_params
    try:
        partner = check_partner(
            partners=known,
            license_key=path["misp_license_key"],
            expected_license_key=ida.settings.misp_license_key,
            partner_id=path["partner_id"],
            api_key=path["api_key"],
            envelope_id=envelope.id,
        )
    except MosipError as error:
        error.transaction_id = envelope.transactionID
        raise
    return partner


async def _open(
    ida: IdRegistryRuntime,
    http: Request,
    raw: bytes,
    envelope: E,
    partner: ActivePartner,
    now: datetime,
) -> E:
    """Signature, `requestTime` window and decryption (`ida.gate`), the keys loaded once."""
    keys = ida.keys.loaded()
    if keys is None and is_sealed(envelope):

        def load() -> ServerKeys:
            with ida.database.session() as session:
                return ida.keys.get(session, now)

        keys = await to_thread.run_sync(load)
    return admit(
        envelope,
        raw=raw,
        signature=header(http, b"signature"),
        partner=partner,
        keys=keys,
        now=now,
        window_seconds=ida.settings.request_time_window_seconds,
    )


async def _transaction(
    ida: IdRegistryRuntime,
    *,
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    partner: ActivePartner,
    rows: list[ExpectationPublic],
    now: datetime,
    run: Callable[[store.Hot, service.IdaContext], T],
    pure: bool = False,
) -> T:
    """The mock expectation, then `run` and its commit (`pure`: it runs no statement but its
    person's read and its deferred inserts, so PostgreSQL batches it on the event loop)."""
    partner_id = partner.partner_id
    forced = match(rows, individual_id=envelope.individualId, partner_id=partner_id)
    ctx = service.IdaContext(
        partner=partner,
        secret=ida.secret,
        now=now,
        forced=forced,
        recorded_tokens=ida.recorded_tokens,
        people=ida.people,
    )
    if forced is not None and forced.delayMs:
        await asyncio.sleep(forced.delayMs / 1000)

    commits = ida.group_commit
    if commits is not None:
        # A few sub-millisecond statements on a local file: running them on the event loop, on
        # one long-lived connection, beats a worker thread whose GIL hand-offs stall under load;
        # the commit is shared with every request of the same loop turn.
        try:
            result = run(store.Hot(commits.connection, ida.statements, commits.defer), ctx)
        except BaseException:
            commits.abort()
            raise
        await commits.commit()
        return result

    uin = envelope.individualId if envelope.individualIdType == "UIN" else None
    if pure and ida.loop_batches is not None:
        return await ida.loop_batches.run(lambda hot: run(hot, ctx), uin=uin)
    batches = ida.batches
    assert batches is not None
    return await batches.run(lambda hot: run(hot, ctx), uin=uin)


def _envelope(
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    body: dict[str, Any] | None,
    errors: list[Any],
) -> Response:
    """The answer (`_signed` adds the signature an encrypted request gets)."""
    response = OrjsonResponse(
        {
            "id": envelope.id,
            "version": envelope.version,
            "responseTime": response_time(),
            "transactionID": envelope.transactionID,
            "response": body,
            "errors": errors or None,
        }
    )
    return response


async def _signed(response: Response, keys: ServerKeys | None) -> Response:
    """`response-signature` on the answer to an encrypted request. (RSA in a worker thread, to
    use the second core, measured no better: 10 % of `/healthz` against 11 % inline.)"""
    if keys is not None:
        signature = response_signature(bytes(response.body), keys)
        response.raw_headers.append((b"response-signature", signature.encode()))
    return response


async def _authenticate(
    request: Request, model: type[A], default_id: str
) -> tuple[A, service.Outcome, ServerKeys | None, ActivePartner]:
    ida = runtime_of(request.app, IdRegistryRuntime)
    raw = await read_body(request)
    envelope = parse_envelope(raw, model, default_id)
    known, rows = await _load_partners(ida)
    partner = _partner(ida, request, envelope, known)
    sealed = is_sealed(envelope)
    now = as_utc(ida.clock())  # the transaction's time, from the `requestTime` check on
    envelope = await _open(ida, request, raw, envelope, partner, now)
    outcome = await _transaction(
        ida,
        envelope=envelope,
        partner=partner,
        rows=rows,
        now=now,
        run=lambda hot, ctx: service.authenticate(hot, ctx=ctx, envelope=envelope),
        pure=envelope.individualIdType == "UIN" and envelope.plain().otp is None,
    )
    service.committed(ida.recorded_tokens, outcome)
    return envelope, outcome, ida.keys.loaded() if sealed else None, partner


@router.post(
    "/auth/{misp_license_key}/{partner_id}/{api_key}",
    summary="Authenticate (demographic and/or OTP); HTTP 200 with authStatus",
    openapi_extra=_BODY,
)
async def auth(request: Request) -> Response:
    envelope, outcome, keys, _ = await _authenticate(request, AuthEnvelope, AUTH_ID)
    body: dict[str, Any] = {"authStatus": outcome.ok}
    if outcome.token:
        body["authToken"] = outcome.token
    return await _signed(_envelope(envelope, body, outcome.errors), keys)


@router.post(
    "/kyc/{misp_license_key}/{partner_id}/{api_key}",
    summary="eKYC: authenticate and return the attributes the partner's policy allows",
    openapi_extra=_BODY,
)
async def kyc(request: Request) -> Response:
    envelope, outcome, keys, partner = await _authenticate(request, KycEnvelope, KYC_ID)
    body = {"kycStatus": outcome.ok, "authToken": outcome.token, "identity": outcome.identity}
    if keys is not None and partner.certificate is not None and outcome.identity is not None:
        # encrypted for the partner, as its request was: only its private key opens it
        body["identity"], body["sessionKey"] = seal_for(partner.certificate, outcome.identity)
        body["thumbprint"] = partner.certificate.thumbprint
    return await _signed(_envelope(envelope, body, outcome.errors), keys)


@router.post(
    "/otp/{misp_license_key}/{partner_id}/{api_key}",
    summary="Send an OTP (to the sandbox's OTP outbox)",
    openapi_extra=_BODY,
)
async def otp(request: Request) -> Response:
    ida = runtime_of(request.app, IdRegistryRuntime)
    raw = await read_body(request)
    envelope = parse_envelope(raw, OtpEnvelope, OTP_ID)
    known, rows = await _load_partners(ida)
    partner = _partner(ida, request, envelope, known)
    now = as_utc(ida.clock())
    envelope = await _open(ida, request, raw, envelope, partner, now)
    ttl = ida.settings.otp_ttl_seconds
    outcome = await _transaction(
        ida,
        envelope=envelope,
        partner=partner,
        rows=rows,
        now=now,
        run=lambda hot, ctx: service.request_otp(hot, ctx=ctx, envelope=envelope, ttl_seconds=ttl),
    )
    body = outcome.masked if outcome.ok else None
    return _envelope(envelope, body, outcome.errors)
