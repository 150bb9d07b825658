"""Data API credentials: `Information-Mediator-Client` names the caller, `Authorization` the key."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from services.kernel.errors import BadRequest, Unauthorized

_SCHEMES = ("bearer ", "token ", "apikey ")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who reads or writes: the client subsystem, the end user if known, and why."""

    client: str
    user_id: str | None = None
    purpose: str | None = None

    @property
    def member(self) -> str:
        return "/".join(self.client.split("/")[:3])


def _presented_key(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    value = authorization.strip()
    for scheme in _SCHEMES:
        if value.lower().startswith(scheme):
            return value[len(scheme) :].strip()
    return value


def require_caller(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    information_mediator_client: Annotated[str | None, Header()] = None,
    x_road_client: Annotated[str | None, Header()] = None,
    x_govstack_client: Annotated[str | None, Header()] = None,
    x_road_userid: Annotated[str | None, Header()] = None,
    x_dpi_purpose: Annotated[str | None, Header()] = None,
    x_road_issue: Annotated[str | None, Header()] = None,
) -> Caller:
    """Check the API key, then the client header (aliases as forwarded by the mediator)."""
    expected: str = request.app.state.settings.api_key
    presented = _presented_key(authorization)
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("A valid API key is required in the Authorization header.")
    client = information_mediator_client or x_road_client or x_govstack_client
    if not client:
        raise BadRequest("Header Information-Mediator-Client is required.")
    parts = client.strip().split("/")
    if len(parts) != 4 or not all(parts):
        raise BadRequest(
            "Header Information-Mediator-Client must be INSTANCE/CLASS/MEMBER/SUBSYSTEM, "
            f"got {client!r}."
        )
    return Caller(
        client="/".join(parts), user_id=x_road_userid, purpose=x_dpi_purpose or x_road_issue
    )


CallerDep = Annotated[Caller, Depends(require_caller)]
