"""Credentials checked from headers alone, before a request body is read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from services.kernel.errors import DomainError
from services.kernel.prebody import admin_key_valid, admin_required, header
from services.registries.deps import require_caller

_CALLER_HEADERS = (
    "authorization",
    "information-mediator-client",
    "x-road-client",
    "x-govstack-client",
    "x-road-userid",
    "x-dpi-purpose",
    "x-road-issue",
)


async def authenticate_headers(scope: Scope) -> DomainError | None:
    """Admin routes take the admin key, the Data API (`/data`, `/database`) its caller check."""
    path: str = scope["path"]
    if path.startswith("/admin/"):
        return None if admin_key_valid(scope) else admin_required()
    if not path.startswith(("/data/", "/database/")):
        return None
    values = {name.replace("-", "_"): header(scope, name) for name in _CALLER_HEADERS}
    try:
        require_caller(Request(scope), **values)
    except DomainError as error:
        return error
    return None
