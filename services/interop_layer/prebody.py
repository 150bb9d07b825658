"""Credentials checked from headers alone, before a request body is read or forwarded."""

from __future__ import annotations

from starlette.types import Scope

from services.interop_layer.auth import authenticate, request_headers
from services.interop_layer.runtime import InteropRuntime
from services.kernel.errors import DomainError
from services.kernel.prebody import admin_key_valid, admin_required
from services.kernel.runtime import runtime_of


async def authenticate_headers(scope: Scope) -> DomainError | None:
    """r1 calls: the client check the r1 endpoints make (header, key, agreement); admin: the key.

    Calls to provider services are checked the same way by the forwarding path itself, which
    authenticates before it reads the body."""
    path: str = scope["path"]
    if path.startswith("/admin/"):
        return None if admin_key_valid(scope) else admin_required()
    if path.startswith("/r1/"):
        try:
            authenticate(
                request_headers(scope),
                directory=runtime_of(scope["app"], InteropRuntime).directory,
                exchange=scope["state"]["exchange"],
            )
        except DomainError as error:
            return error
    return None
