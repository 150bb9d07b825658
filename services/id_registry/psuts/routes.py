"""The token exchange the mediator calls: `POST /v1/token-exchange`."""

from __future__ import annotations

from fastapi import APIRouter

from services.id_registry.deps import NowDep, RuntimeDep
from services.id_registry.psuts.models import TokenExchangeRequest, TokenExchangeResponse
from services.id_registry.psuts.service import exchange
from services.kernel.credentials import MediatorDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/v1", tags=["token exchange (mediator only)"])


@router.post("/token-exchange", summary="Translate a partner's PSUT into other partners' PSUTs")
def token_exchange(
    data: TokenExchangeRequest,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    _: MediatorDep,
) -> TokenExchangeResponse:
    return exchange(
        session=session,
        cache=runtime.partners,
        data=data,
        secret=runtime.secret,
        now=now,
    )
