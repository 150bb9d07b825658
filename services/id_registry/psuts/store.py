"""Issuing partner-specific tokens (PSUTs) and finding the person behind one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.id_registry.hashing import psut
from services.id_registry.identities.models import Identity, PartnerToken


def issue_token(
    *,
    session: Session,
    secret: bytes,
    identity: Identity,
    partner_id: str,
    now: datetime,
) -> str:
    """The person's PSUT for `partner_id`, recorded so token exchange can resolve it later."""
    assert identity.id is not None
    token = psut(secret, uin=identity.uin, partner_id=partner_id)
    known = session.exec(select(PartnerToken.id).where(PartnerToken.token == token)).first()
    if known is None:
        try:
            with session.begin_nested():
                session.add(
                    PartnerToken(
                        identity_id=identity.id, partner_id=partner_id, token=token, issued_at=now
                    )
                )
        except IntegrityError:
            pass  # a concurrent request recorded the same token first
    return token


def resolve_token(*, session: Session, partner_id: str, token: str) -> Identity | None:
    """The identity a partner's token stands for, or None if the token was never issued to it."""
    row = session.exec(
        select(PartnerToken).where(
            PartnerToken.token == token, PartnerToken.partner_id == partner_id
        )
    ).first()
    if row is None:
        return None
    return session.get(Identity, row.identity_id)
