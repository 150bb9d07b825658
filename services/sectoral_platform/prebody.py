"""Credentials checked from headers alone, before a request body is read."""

from __future__ import annotations

from anyio import to_thread
from starlette.requests import Request
from starlette.types import Scope

from services.kernel.errors import DomainError
from services.kernel.prebody import mediator_key_valid, mediator_required
from services.sectoral_platform.auth.deps import current_user

MEDIATOR_ONLY = frozenset({"/api/civilRegistration/events"})


async def authenticate_headers(scope: Scope) -> DomainError | None:
    """Web API writes need a valid Basic or PAT credential (checked as the routes check it, in a
    worker thread: a password hash or a token lookup); mediator pushes need its key."""
    path: str = scope["path"]
    if not path.startswith("/api/"):
        return None
    if path in MEDIATOR_ONLY:
        return None if mediator_key_valid(scope) else mediator_required()
    try:
        await to_thread.run_sync(current_user, Request(scope))
    except DomainError as error:
        return error
    return None
