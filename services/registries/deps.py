"""Request dependencies: the runtime, and the Data API's credentials (the API key in
`Authorization`; the caller as the mediator forwarded it).

A direct call acts as the key's owner and may name only that owner in `Information-Mediator-Client`;
another client, an end user or a purpose is taken only from a call the mediator forwarded.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header, Request

from services.kernel.callers import caller_identity
from services.kernel.errors import BadRequest, Unauthorized
from services.kernel.runtime import runtime_getter, runtime_of
from services.kernel.security import Security, http, one
from services.kernel.topology import load_topology
from services.registries.runtime import RegistriesRuntime

_SCHEMES = ("bearer ", "token ", "apikey ")
_CLIENT = (
    "The calling subsystem; on a direct call only the API key's owner, another client only as "
    "forwarded by the interoperability layer"
)
_MEDIATED = "Accepted only as forwarded by the interoperability layer (X-DPI-Mediator-Key)"


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


def key_owner(request: Request) -> str:
    """Who a direct call acts as: `DPI_REGISTRIES_API_KEY_OWNER`, by default this subsystem."""
    owner = runtime_of(request.app, RegistriesRuntime).settings.api_key_owner
    return owner or _own_member()


@lru_cache(maxsize=1)
def _own_member() -> str:
    return load_topology().member_id("registries") or "DPI/GOV/CRVS/registries"


def require_caller(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    information_mediator_client: Annotated[str | None, Header(description=_CLIENT)] = None,
    x_road_client: Annotated[str | None, Header(description=_CLIENT)] = None,
    x_govstack_client: Annotated[str | None, Header(description=_CLIENT)] = None,
    x_road_userid: Annotated[str | None, Header(description=_MEDIATED)] = None,
    x_dpi_purpose: Annotated[str | None, Header(description=_MEDIATED)] = None,
    x_road_issue: Annotated[str | None, Header(description=_MEDIATED)] = None,
    x_dpi_mediator_key: Annotated[
        str | None, Header(description="Set by the interoperability layer on a forwarded call")
    ] = None,
) -> Caller:
    """Check the API key; the caller is the mediator's forwarded client, else the key's owner."""
    expected = runtime_of(request.app, RegistriesRuntime).settings.api_key
    presented = _presented_key(authorization)
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Unauthorized("A valid API key is required in the Authorization header.")
    named = [v for v in (information_mediator_client, x_road_client, x_govstack_client) if v]
    for client in named:
        parts = client.strip().split("/")
        if len(parts) != 4 or not all(parts):
            raise BadRequest(
                "Header Information-Mediator-Client must be INSTANCE/CLASS/MEMBER/SUBSYSTEM, "
                f"got {client!r}."
            )
    identity = caller_identity(request, owner=key_owner(request))
    if not named:
        raise BadRequest("Header Information-Mediator-Client is required.")
    return Caller(client=identity.client, user_id=identity.user_id, purpose=identity.purpose)


CallerDep = Annotated[Caller, Depends(require_caller)]
RuntimeDep = Annotated[RegistriesRuntime, Depends(runtime_getter(RegistriesRuntime))]

DATA_API_KEY = "dataApiKey"
SECURITY = Security(
    schemes={
        DATA_API_KEY: http(
            "bearer",
            "The Data API key (`DPI_REGISTRIES_API_KEY`; `dpi-registries-sandbox-key` in the "
            "sandbox); `Authorization: Bearer <key>`.",
        )
    },
    by_dependency={require_caller: (one(DATA_API_KEY),)},
)
