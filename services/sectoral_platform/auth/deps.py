"""The caller and their scope, as route dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.security import MEDIATOR, Security, header_key, http, one
from services.sectoral_platform.auth.scope import Scope, scope_of
from services.sectoral_platform.auth.service import SUPERUSER_AUTHORITY, CurrentUser, unauthorized
from services.sectoral_platform.runtime import RuntimeDep, SectoralRuntime


def current_user(request: Request) -> CurrentUser:
    """The authenticated caller; 401 WebMessage when credentials are missing or wrong."""
    authenticator = runtime_of(request.app, SectoralRuntime).authenticator
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized()
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return authenticator.basic(value.strip())
    if scheme == "apitoken" or (scheme == "bearer" and value.strip().startswith("d2pat_")):
        with kernel_state(request.app).database.session() as session:
            return authenticator.token(session, value.strip())
    raise unauthorized(f"Unsupported authorization scheme `{scheme}`")


CurrentUserDep = Annotated[CurrentUser, Depends(current_user)]


def current_scope(runtime: RuntimeDep, user: CurrentUserDep) -> Scope:
    """The authenticated caller's scope: every data route depends on this."""
    return scope_of(user, runtime.metadata)


def superuser_scope(scope: Annotated[Scope, Depends(current_scope)]) -> Scope:
    """Routes over everyone's data (jobs, outbox, sync): the superuser only, 403 E3000."""
    scope.user.require(SUPERUSER_AUTHORITY)
    return scope


ScopeDep = Annotated[Scope, Depends(current_scope)]
SuperuserDep = Annotated[Scope, Depends(superuser_scope)]

BASIC, TOKEN = "dhis2Basic", "dhis2PersonalAccessToken"
SECURITY = Security(
    schemes={
        BASIC: http("basic", "A DHIS2 user's username and password (the sandbox: admin/district)."),
        TOKEN: header_key(
            "Authorization",
            "A DHIS2 personal access token, as `ApiToken d2pat_…` (`POST /api/apiToken`).",
        ),
    },
    by_dependency={current_user: (one(BASIC), one(TOKEN))},
    # checked by hand: a provider service reached only through the mediator
    by_path={"GET /api/immunisationStatus": MEDIATOR},
)
