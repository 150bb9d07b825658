"""VID lifecycle (create, read, revoke, regenerate) and resolving a VID for authentication."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from services.id_registry import ids
from services.id_registry.errors import MosipError
from services.id_registry.identities.models import STATUS_ACTIVE, Identity
from services.id_registry.identities.service import get_by_uin
from services.id_registry.vids.models import (
    ACTIVE,
    PERPETUAL,
    REVOKED,
    TEMPORARY,
    Vid,
    VidCreateRequest,
)

_system_rng = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class VidLimits:
    temporary_minutes: int
    temporary_transactions: int


def vid_public(vid: Vid, now: datetime, *, uin: str | None = None) -> dict[str, Any]:
    return {
        "VID": vid.vid,
        "vidStatus": vid.effective_status(now),
        "vidType": vid.vid_type,
        "expiryTimestamp": vid.expires_at,
        "transactionsLeft": (
            None
            if vid.transactions_allowed is None
            else max(vid.transactions_allowed - vid.transactions_used, 0)
        ),
        "UIN": uin,
        "restoredVid": None,
    }


def _new_vid(session: Session, rng: random.Random) -> str:
    while True:
        value = ids.generate_vid(rng)
        if session.exec(select(Vid.id).where(Vid.vid == value)).first() is None:
            return value


def _insert(
    *,
    session: Session,
    identity: Identity,
    vid_type: str,
    limits: VidLimits,
    now: datetime,
    validity_minutes: int | None = None,
    transactions_allowed: int | None = None,
    rng: random.Random | None = None,
) -> Vid:
    assert identity.id is not None
    temporary = vid_type == TEMPORARY
    minutes = validity_minutes or (limits.temporary_minutes if temporary else None)
    allowed = transactions_allowed or (limits.temporary_transactions if temporary else None)
    vid = Vid(
        vid=_new_vid(session, rng or _system_rng),
        identity_id=identity.id,
        vid_type=vid_type,
        expires_at=now + timedelta(minutes=minutes) if minutes else None,
        transactions_allowed=allowed,
        created_at=now,
        updated_at=now,
    )
    session.add(vid)
    return vid


def create_vid(
    *, session: Session, data: VidCreateRequest, limits: VidLimits, now: datetime
) -> Vid:
    """A new VID; one active PERPETUAL VID per UIN at a time, as MOSIP's default VID policy."""
    identity = get_by_uin(session=session, uin=data.UIN)
    if identity.status != STATUS_ACTIVE or identity.blocked:
        raise MosipError("IDA-MLC-022", status_code=409)
    if data.vidType == PERPETUAL:
        active = session.exec(
            select(Vid).where(
                Vid.identity_id == identity.id, Vid.vid_type == PERPETUAL, Vid.status == ACTIVE
            )
        ).first()
        if active is not None and active.effective_status(now) == ACTIVE:
            raise MosipError(
                "IDR-VID-004",
                "Maximum allowed VIDs are active. Deactivate VID to generate new one.",
                status_code=409,
            )
    vid = _insert(
        session=session,
        identity=identity,
        vid_type=data.vidType,
        limits=limits,
        now=now,
        validity_minutes=data.validityMinutes,
        transactions_allowed=data.transactionsAllowed,
    )
    session.commit()
    return vid


def get_vid(*, session: Session, value: str) -> Vid:
    if not ids.is_valid_vid(value):
        raise MosipError("IDA-MLC-004", status_code=400)
    vid = session.exec(select(Vid).where(Vid.vid == value)).first()
    if vid is None:
        raise MosipError("IDR-VID-001", "VID not available in database", status_code=404)
    return vid


def uin_of(*, session: Session, vid: Vid) -> str:
    """The UIN a VID stands for (the foreign key guarantees the identity exists)."""
    identity = session.get(Identity, vid.identity_id)
    assert identity is not None
    return identity.uin


def revoke_vid(*, session: Session, value: str, now: datetime) -> Vid:
    vid = get_vid(session=session, value=value)
    if vid.effective_status(now) != ACTIVE:
        raise MosipError(
            "IDR-VID-002", f"VID status is {vid.effective_status(now)}, not ACTIVE", status_code=409
        )
    vid.status = REVOKED
    vid.updated_at = now
    session.add(vid)
    session.commit()
    return vid


def regenerate_vid(*, session: Session, value: str, limits: VidLimits, now: datetime) -> Vid:
    """Revoke `value` and issue a fresh VID of the same type for the same person."""
    old = get_vid(session=session, value=value)
    if old.effective_status(now) != ACTIVE:
        raise MosipError("IDR-VID-002", "Only an active VID can be regenerated", status_code=409)
    identity = session.get(Identity, old.identity_id)
    assert identity is not None
    old.status = REVOKED
    old.updated_at = now
    session.add(old)
    new = _insert(session=session, identity=identity, vid_type=old.vid_type, limits=limits, now=now)
    session.commit()
    return new
