"""OIDC endpoints (eSignet): discovery, JWKS, authorize (login page), token, userinfo."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from services.id_registry.deps import RuntimeDep
from services.id_registry.oidc import authorize as authorization
from services.id_registry.oidc import clients, login, page, tokens
from services.id_registry.oidc.errors import NO_STORE, OAuthRoute, invalid_request
from services.id_registry.oidc.provider import IdaAccess
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.time import as_utc

T = TypeVar("T")
MAX_FORM_BYTES = 64 * 1024


def _strings(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string"} for name in names}}


# Parameters are read from the request itself (OAuth errors, not the service's validation
# errors); these only document them.
_REQUIRED = ("client_id", "redirect_uri", "response_type", "scope")
_AUTHORIZE = {
    "parameters": [
        {"name": name, "in": "query", "required": name in _REQUIRED, "schema": {"type": "string"}}
        for name in (
            *_REQUIRED,
            "state",
            "nonce",
            "claims",
            "acr_values",
            "prompt",
            "code_challenge",
            "code_challenge_method",
        )
    ]
}


def _form_body(*names: str) -> dict[str, Any]:
    content = {"application/x-www-form-urlencoded": {"schema": _strings(*names)}}
    return {"requestBody": {"required": True, "content": content}}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs after the service's own start (schema, seed): the seed client. The signing key is
    read (on a fresh database, generated: an RSA key, 0.1 to 0.3 s) by the first call that signs or
    publishes it, not at start (`KeyHolder`)."""
    runtime = runtime_of(app, IdRegistryRuntime)
    if kernel_state(app).schema_ready and runtime.settings.seed_on_start:
        now = as_utc(runtime.clock())

        def prepare() -> None:
            with runtime.database.session() as session:
                clients.seed_client(session=session, now=now)

        await to_thread.run_sync(prepare)
    yield


router = APIRouter(tags=["OIDC (eSignet)"], route_class=OAuthRoute, lifespan=lifespan)


def _now(runtime: IdRegistryRuntime) -> datetime:
    return as_utc(runtime.clock())


def _access(runtime: IdRegistryRuntime) -> IdaAccess:
    return IdaAccess(
        secret=runtime.secret,
        people=runtime.people,
        recorded_tokens=runtime.recorded_tokens,
        partners=runtime.partners,
        expectations=runtime.expectations,
        otp_ttl_seconds=runtime.settings.otp_ttl_seconds,
    )


async def _in_session(runtime: IdRegistryRuntime, work: Callable[[Session], T]) -> T:
    database = runtime.database

    def run() -> T:
        with database.session() as session:
            return work(session)

    return await to_thread.run_sync(run)


def _single(items: list[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """First value of each parameter, and the names given more than once (RFC 6749 3.1)."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in items:
        if name in values:
            repeated.add(name)
        else:
            values[name] = value
    return values, repeated


async def _form(request: Request) -> list[tuple[str, str]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise invalid_request("The body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise invalid_request("The form is too large")
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("The form cannot be parsed") from None
    return [(name, value) for name, values in parsed.items() for value in values]


@router.get("/.well-known/openid-configuration", summary="OpenID Provider metadata")
async def configuration(runtime: RuntimeDep) -> dict[str, Any]:
    return tokens.discovery(runtime.oidc)


@router.get("/.well-known/jwks.json", summary="The provider's signing key (JWKS)")
async def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    oidc = runtime.oidc
    now = _now(runtime)
    key = await _in_session(runtime, lambda session: oidc.keys.get(session, now))
    return key.jwks()


@router.get(
    "/authorize",
    summary="Authorization request: checks it and shows the login and consent page",
    response_class=HTMLResponse,
    openapi_extra=_AUTHORIZE,
)
async def authorize(request: Request, runtime: RuntimeDep) -> Response:
    params, repeated = _single(list(request.query_params.multi_items()))
    oidc = runtime.oidc
    access, now = _access(runtime), _now(runtime)
    txn, client = await _in_session(
        runtime,
        lambda session: authorization.start(
            session=session,
            access=access,
            settings=oidc.settings,
            params=params,
            repeated=repeated,
            now=now,
        ),
    )
    return page.render(login.Page(txn=txn, client=client))


@router.post(
    "/authorize/send-otp",
    summary="Login page: send an OTP (to the sandbox's OTP outbox)",
    response_class=HTMLResponse,
    openapi_extra=_form_body("transaction_id", "individual_id", "channel"),
)
async def send_otp(request: Request, runtime: RuntimeDep) -> Response:
    items = await _form(request)
    form, _ = _single(items)
    channels = [value.upper() for name, value in items if name == "channel"]
    access, now = _access(runtime), _now(runtime)
    result = await _in_session(
        runtime,
        lambda session: login.send_otp(
            session=session, access=access, form=form, channels=channels, now=now
        ),
    )
    return page.render(result)


@router.post(
    "/authorize",
    summary="Login page: authenticate and consent; 302 to redirect_uri with code and state",
    response_class=HTMLResponse,
    openapi_extra=_form_body(
        "transaction_id", "individual_id", "otp", "name", "dob", "claim", "action"
    ),
)
async def complete(request: Request, runtime: RuntimeDep) -> Response:
    items = await _form(request)
    form, _ = _single(items)
    accepted = [value for name, value in items if name == "claim"]
    oidc = runtime.oidc
    access, now = _access(runtime), _now(runtime)
    result = await _in_session(
        runtime,
        lambda session: login.login(
            session=session,
            access=access,
            settings=oidc.settings,
            form=form,
            accepted=accepted,
            now=now,
        ),
    )
    if isinstance(result, str):
        return RedirectResponse(result, status_code=302, headers={"Cache-Control": "no-store"})
    return page.render(result)


@router.post(
    "/oauth/v2/token",
    summary="Authorization code for tokens (private_key_jwt)",
    openapi_extra=_form_body(
        "grant_type",
        "code",
        "redirect_uri",
        "client_id",
        "client_assertion_type",
        "client_assertion",
        "code_verifier",
    ),
)
async def token(request: Request, runtime: RuntimeDep) -> JSONResponse:
    form, repeated = _single(await _form(request))
    if repeated:
        raise invalid_request(f"{', '.join(sorted(repeated))} given more than once")
    oidc = runtime.oidc
    now = _now(runtime)

    def work(session: Session) -> dict[str, Any]:
        key = oidc.keys.get(session, now)
        return tokens.exchange_code(session=session, oidc=oidc, key=key, form=form, now=now)

    return JSONResponse(await _in_session(runtime, work), headers=NO_STORE)


@router.get(
    "/oidc/userinfo",
    summary="The consented claims as a signed JWT (application/jwt)",
    response_class=Response,
    responses={
        200: {
            "description": "A signed JWT",
            "content": {"application/jwt": {"schema": {"type": "string"}}},
        }
    },
)
async def userinfo(request: Request, runtime: RuntimeDep) -> Response:
    oidc = runtime.oidc
    now = _now(runtime)
    authorization = request.headers.get("authorization")

    def work(session: Session) -> str:
        key = oidc.keys.get(session, now)
        return tokens.userinfo(
            session=session,
            oidc=oidc,
            key=key,
            partners=runtime.partners,
            authorization=authorization,
            now=now,
        )

    signed = await _in_session(runtime, work)
    return Response(signed, media_type="application/jwt", headers=NO_STORE)


router.include_router(clients.router)
