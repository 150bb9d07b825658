"""Token exchange for the mediator: one partner's PSUT to other partners' PSUTs, failing closed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from services.id_registry.errors import MosipError
from services.id_registry.identities.models import STATUS_ACTIVE
from services.id_registry.partners.service import PartnerCache
from services.id_registry.psuts.models import TokenExchangeRequest, TokenExchangeResponse
from services.id_registry.psuts.store import issue_token, resolve_token


def exchange(
    *,
    session: Session,
    cache: PartnerCache,
    data: TokenExchangeRequest,
    secret: bytes,
    now: datetime,
) -> TokenExchangeResponse:
    partners = cache.all(session)
    for partner_id in (data.fromPartnerId, *data.toPartnerIds):
        partner = partners.get(partner_id)
        if partner is None:
            raise MosipError(
                "IDA-MPA-009", f"Partner {partner_id!r} is not registered", status_code=404
            )
        if not partner.active:
            raise MosipError(
                "IDA-MPA-012", f"Partner {partner_id!r} is deactivated", status_code=409
            )
    identity = resolve_token(session=session, partner_id=data.fromPartnerId, token=data.token)
    if identity is None:
        raise MosipError(
            "IDA-MLC-018", "Token not available in database for this partner", status_code=404
        )
    if identity.status != STATUS_ACTIVE:
        raise MosipError("IDA-MLC-003", status_code=409)
    if identity.blocked:
        raise MosipError("IDA-MLC-022", status_code=409)
    tokens = {
        partner_id: issue_token(
            session=session, secret=secret, identity=identity, partner_id=partner_id, now=now
        )
        for partner_id in data.toPartnerIds
    }
    session.commit()
    return TokenExchangeResponse(tokens=tokens)
