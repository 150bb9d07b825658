"""Who is calling: the credential decides, the `X-Road-Client` header must agree."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import Scope

from services.interop_layer.directory import Directory
from services.interop_layer.errors import (
    AuthenticationFailed,
    BadRequest,
    UnknownMember,
    XRoadError,
)
from services.interop_layer.identifiers import canonical_client, canonical_subsystem
from services.interop_layer.messagelog.capture import Exchange
from services.interop_layer.runtime import InteropRuntime
from services.kernel.credentials import CLIENT_KEY_HEADER
from services.kernel.runtime import runtime_of
from services.kernel.security import MEDIATOR_CLIENT, MEDIATOR_CLIENT_SCHEMES, Security

CLIENT_HEADERS = ("x-road-client", "x-govstack-client", "information-mediator-client")
_RAW_CLIENT_HEADERS = tuple(h.encode() for h in CLIENT_HEADERS)
_RAW_CLIENT_KEY = CLIENT_KEY_HEADER.lower().encode()
_X_ROAD_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")


def exchange_of(request: Request) -> Exchange:
    exchange: Exchange = request.scope["state"]["exchange"]  # no `State` wrapper per call
    return exchange


def directory_of(request: Request) -> Directory:
    return runtime_of(request.app, InteropRuntime).directory


def request_headers(scope: Scope) -> dict[bytes, bytes]:
    """Header name -> value; the first of repeated headers wins (as in Starlette's `Headers`)."""
    return dict(reversed(scope["headers"]))


def claimed_client(headers: dict[bytes, bytes]) -> str:
    values = {headers[h].decode("latin-1").strip() for h in _RAW_CLIENT_HEADERS if h in headers}
    if not values:
        raise BadRequest("Missing X-Road-Client header (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]).")
    if len(values) > 1:
        raise BadRequest("X-Road-Client and its GovStack aliases name different clients.")
    try:
        return canonical_client(values.pop())
    except ValueError as exc:
        raise BadRequest(f"Malformed X-Road-Client header: {exc}") from exc


async def authenticated_client(request: Request) -> str:
    """The calling client (a dependency of the mediator's own r1 endpoints)."""
    return authenticate(
        request_headers(request.scope),
        directory=directory_of(request),
        exchange=exchange_of(request),
    )


def authenticate(headers: dict[bytes, bytes], *, directory: Directory, exchange: Exchange) -> str:
    """The calling client; mediator errors for a bad header, credential or a spoofed id."""
    x_road_id = headers.get(b"x-road-id")
    if x_road_id is not None and not _X_ROAD_ID.match(x_road_id.decode("latin-1")):
        raise BadRequest("X-Road-Id must be 1-100 characters of A-Z a-z 0-9 . _ : -.")
    claimed = claimed_client(headers)
    key = headers.get(_RAW_CLIENT_KEY)
    authenticated = directory.authenticate(None if key is None else key.decode("latin-1"))
    if authenticated is None:
        raise unauthenticated(claimed, key, directory)
    exchange.client = authenticated
    if authenticated != claimed:
        raise AuthenticationFailed(
            f"X-Road-Client {claimed} does not match the authenticated subsystem {authenticated}."
        )
    return authenticated


def unauthenticated(claimed: str, key: bytes | None, directory: Directory) -> XRoadError:
    """The sandbox's derived key of a client nobody registered, or no usable credential."""
    if key is not None and directory.is_derived_key(claimed, key.decode("latin-1")):
        return UnknownMember(f"Client {claimed} is not registered at this instance.")
    return AuthenticationFailed(
        f"No client is registered for this credential ({CLIENT_KEY_HEADER} missing or unknown)."
    )


ClientDep = Annotated[str, Depends(authenticated_client)]
SECURITY = Security(
    schemes=MEDIATOR_CLIENT_SCHEMES, by_dependency={authenticated_client: MEDIATOR_CLIENT}
)


def provider_id(*parts: str) -> str:
    try:
        return canonical_subsystem("/".join(parts))
    except ValueError as exc:
        raise BadRequest(f"Malformed service identifier: {exc}") from exc
