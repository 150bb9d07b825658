"""IDA endpoints: `/idauthentication/v1/{auth,kyc,otp}/{MISP-LK}/{Partner-ID}/{API-Key}`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import orjson
from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from services.id_registry.controls.models import ExpectationPublic
from services.id_registry.controls.service import match
from services.id_registry.errors import response_time
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
        "description": "IDA envelope, plaintext (real MOSIP encrypts `request`).",
    },
}


async def _transaction(
    http: Request,
    *,
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    run: Callable[[store.Hot, service.IdaContext], T],
) -> T:
    """Partner check and mock expectation from memory, then `run` and its commit."""
    ida = runtime_of(http.app, IdRegistryRuntime)
    path = http.path_params
    partner_id: str = path["partner_id"]
    cached, cached_rows = ida.partners.loaded(), ida.expectations.loaded()
    if cached is None or cached_rows is None:
        database = ida.database

        def load() -> tuple[dict[str, ActivePartner], list[ExpectationPublic]]:
            with database.session() as session:
                return ida.partners.all(session), ida.expectations.rows(session)

        known, rows = await to_thread.run_sync(load)
    else:
        known, rows = cached, cached_rows
    partner = check_partner(
        partners=known,
        license_key=path["misp_license_key"],
        expected_license_key=ida.settings.misp_license_key,
        partner_id=partner_id,
        api_key=path["api_key"],
        envelope_id=envelope.id,
    )
    forced = match(rows, individual_id=envelope.individualId, partner_id=partner_id)
    ctx = service.IdaContext(
        partner=partner,
        secret=ida.secret,
        now=as_utc(ida.clock()),
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

    engine = ida.database.engine

    def execute() -> T:
        raw = engine.raw_connection()
        try:
            db = raw.dbapi_connection
            assert db is not None
            result = run(store.Hot(db, ida.statements), ctx)
            db.commit()
            return result
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    return await to_thread.run_sync(execute, limiter=ida.limiter)


async def _body(request: Request) -> bytes:
    """The body read from `receive` itself: Starlette's `body()` goes through an async
    generator, a measurable share of an authentication's cost."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


_JSON = (b"content-type", b"application/json")


class OrjsonResponse(JSONResponse):
    """The same compact UTF-8 JSON as `JSONResponse`, several times cheaper to render."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        if headers is not None:
            super().init_headers(headers)
            return
        self.raw_headers = [(b"content-length", str(len(self.body)).encode()), _JSON]


def _envelope(
    envelope: AuthEnvelope | KycEnvelope | OtpEnvelope,
    body: dict[str, Any] | None,
    errors: list[Any],
) -> JSONResponse:
    return OrjsonResponse(
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
async def auth(request: Request) -> JSONResponse:
    envelope = parse_envelope(await _body(request), AuthEnvelope, AUTH_ID)
    outcome = await _transaction(
        request,
        envelope=envelope,
        run=lambda hot, ctx: service.authenticate(hot, ctx=ctx, envelope=envelope),
    )
    service.committed(runtime_of(request.app, IdRegistryRuntime).recorded_tokens, outcome)
    body: dict[str, Any] = {"authStatus": outcome.ok}
    if outcome.token:
        body["authToken"] = outcome.token
    return _envelope(envelope, body, outcome.errors)


@router.post(
    "/kyc/{misp_license_key}/{partner_id}/{api_key}",
    summary="eKYC: authenticate and return the attributes the partner's policy allows",
    openapi_extra=_BODY,
)
async def kyc(request: Request) -> JSONResponse:
    envelope = parse_envelope(await _body(request), KycEnvelope, KYC_ID)
    outcome = await _transaction(
        request,
        envelope=envelope,
        run=lambda hot, ctx: service.authenticate(hot, ctx=ctx, envelope=envelope),
    )
    service.committed(runtime_of(request.app, IdRegistryRuntime).recorded_tokens, outcome)
    body = {"kycStatus": outcome.ok, "authToken": outcome.token, "identity": outcome.identity}
    return _envelope(envelope, body, outcome.errors)


@router.post(
    "/otp/{misp_license_key}/{partner_id}/{api_key}",
    summary="Send an OTP (to the sandbox's OTP outbox)",
    openapi_extra=_BODY,
)
async def otp(request: Request) -> JSONResponse:
    envelope = parse_envelope(await _body(request), OtpEnvelope, OTP_ID)
    ttl = runtime_of(request.app, IdRegistryRuntime).settings.otp_ttl_seconds
    outcome = await _transaction(
        request,
        envelope=envelope,
        run=lambda hot, ctx: service.request_otp(hot, ctx=ctx, envelope=envelope, ttl_seconds=ttl),
    )
    body = outcome.masked if outcome.ok else None
    return _envelope(envelope, body, outcome.errors)
