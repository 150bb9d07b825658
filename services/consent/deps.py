"""Request dependencies: who may call (organisations by `Authorization: ApiKey <key>`,
individuals by header, the mediator), paging, the runtime and what it holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from services.consent.receipts.keys import Signer
from services.consent.runtime import ConsentRuntime
from services.consent.settings import ConsentSettings
from services.kernel.callers import is_mediator_key
from services.kernel.credentials import same_secret
from services.kernel.errors import BadRequest, Unauthorized
from services.kernel.runtime import runtime_getter, runtime_of
from services.kernel.security import MEDIATOR, Security, header_key, one

INDIVIDUAL_HEADER = "X-ConsentBB-IndividualId"


def require_org(
    request: Request,
    authorization: Annotated[str | None, Header(description="`ApiKey <organisation key>`")] = None,
) -> None:
    """The organisation's API key, as the Consent BB reference implementation accepts it."""
    expected = runtime_of(request.app, ConsentRuntime).settings.org_api_key
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "apikey" or not same_secret(presented.strip(), expected):
        raise Unauthorized(
            "An organisation API key is required: `Authorization: ApiKey <key>`.",
            code="api-key-required",
            headers={"WWW-Authenticate": "ApiKey"},
        )


def individual_header(
    x_consentbb_individualid: Annotated[
        str | None,
        Header(alias=INDIVIDUAL_HEADER, description="The Individual acting (id or externalId)"),
    ] = None,
) -> str:
    if not x_consentbb_individualid or not x_consentbb_individualid.strip():
        raise BadRequest(
            f"Header {INDIVIDUAL_HEADER} is required for this operation.",
            code="individual-required",
        )
    return x_consentbb_individualid.strip()


def optional_individual_header(
    x_consentbb_individualid: Annotated[
        str | None,
        Header(alias=INDIVIDUAL_HEADER, description="The Individual acting (id or externalId)"),
    ] = None,
) -> str | None:
    value = (x_consentbb_individualid or "").strip()
    return value or None


async def require_mediator(
    request: Request,
    x_dpi_mediator_key: Annotated[str | None, Header()] = None,
) -> None:
    """The kernel's mediator check, as a coroutine: the decision path skips a thread hop."""
    secret = runtime_of(request.app, ConsentRuntime).settings.sandbox_secret
    if not is_mediator_key(x_dpi_mediator_key, secret):
        raise Unauthorized("Only the interoperability layer may call this.", code="mediator-only")


class Page:
    """`offset`/`limit` query parameters of the spec's LIST operations."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, description="Index of the first resource")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Number of resources")] = 100,
    ) -> None:
        self.offset = offset
        self.limit = limit


def get_settings(request: Request) -> ConsentSettings:
    return runtime_of(request.app, ConsentRuntime).settings


def get_signer(request: Request) -> Signer:
    return runtime_of(request.app, ConsentRuntime).keys.get()


RuntimeDep = Annotated[ConsentRuntime, Depends(runtime_getter(ConsentRuntime))]
SettingsDep = Annotated[ConsentSettings, Depends(get_settings)]
SignerDep = Annotated[Signer, Depends(get_signer)]
OrgDep = Annotated[None, Depends(require_org)]
MediatorDep = Annotated[None, Depends(require_mediator)]
IndividualHeaderDep = Annotated[str, Depends(individual_header)]
OptionalIndividualHeaderDep = Annotated[str | None, Depends(optional_individual_header)]

ORG_KEY = "organisationApiKey"
SECURITY = Security(
    schemes={
        ORG_KEY: header_key(
            "Authorization",
            "The organisation's API key, as `ApiKey <key>` (`DPI_CONSENT_ORG_API_KEY`).",
        )
    },
    by_dependency={require_org: (one(ORG_KEY),), require_mediator: MEDIATOR},
    by_path={"POST /v1/decisions": MEDIATOR},  # the hot path checks the key by hand
)
