"""Enrolment and lifecycle of identities; changes sectors must hear of go to the outbox."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.id_registry import ids
from services.id_registry.errors import MosipError
from services.id_registry.events.models import IDENTITY_DEACTIVATED
from services.id_registry.events.service import enqueue, per_subscriber_tokens
from services.id_registry.identities.attributes import identity_attributes, normalise
from services.id_registry.identities.created import Enrolled, publish_created
from services.id_registry.identities.models import (
    STATUS_ACTIVE,
    STATUS_DEACTIVATED,
    Identity,
    IdentityCreate,
    IdentityUpdate,
)
from services.kernel.time import iso_z

_system_rng = random.SystemRandom()


def dedupe_key(*, given_name: str, family_name: str, date_of_birth: date, gender: str) -> str:
    raw = "|".join(
        (normalise(given_name), normalise(family_name), date_of_birth.isoformat(), gender)
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def identity_public(identity: Identity) -> dict[str, Any]:
    return {
        "UIN": identity.uin,
        "status": identity.status,
        "blocked": identity.blocked,
        "statusReason": identity.status_reason,
        "civilRegistrationId": identity.civil_registration_id,
        "identity": identity_attributes(identity),
        "createdAt": identity.created_at,
        "updatedAt": identity.updated_at,
    }


def duplicate_of(uin: str) -> MosipError:
    """The refusal of an enrolment whose person the registry holds already, as UIN `uin`."""
    return MosipError(
        "IDR-IDC-003",
        f"Record already exists in DB: UIN {uin} has the same name, date of birth and sex",
        status_code=409,
    )


def _duplicate(existing: Identity) -> MosipError:
    return duplicate_of(existing.uin)


def new_uin(rng: random.Random, taken: Callable[[str], bool]) -> str:
    """A fresh UIN: drawn from `rng` until `taken` says no."""
    while True:
        uin = ids.generate_uin(rng)
        if not taken(uin):
            return uin


def _new_uin(session: Session, rng: random.Random) -> str:
    def taken(uin: str) -> bool:
        return session.exec(select(Identity.id).where(Identity.uin == uin)).first() is not None

    return new_uin(rng, taken)


def identity_values(data: IdentityCreate, *, uin: str, key: str, now: datetime) -> dict[str, Any]:
    """The columns an enrolment of `data` stores: an active, unblocked identity."""
    return {
        "uin": uin,
        "dedupe_key": key,
        "given_name": data.givenName,
        "family_name": data.familyName,
        "date_of_birth": data.dateOfBirth,
        "gender": data.gender,
        "address": data.address,
        "phone": data.phone,
        "email": data.email,
        "language": data.language,
        "civil_registration_id": data.civilRegistrationId,
        "status": STATUS_ACTIVE,
        "blocked": False,
        "status_reason": None,
        "created_at": now,
        "updated_at": now,
    }


def new_identity(data: IdentityCreate, *, uin: str, key: str, now: datetime) -> Identity:
    """The record an enrolment of `data` stores (not added to any session)."""
    return Identity(**identity_values(data, uin=uin, key=key, now=now))


def key_of(data: IdentityCreate) -> str:
    return dedupe_key(
        given_name=data.givenName,
        family_name=data.familyName,
        date_of_birth=data.dateOfBirth,
        gender=data.gender,
    )


def enrol(
    *,
    session: Session,
    data: IdentityCreate,
    secret: bytes,
    now: datetime,
    rng: random.Random | None = None,
    publish: bool = True,
) -> Identity:
    """Create an identity with a fresh UIN; refuse a duplicate, naming the existing record."""
    key = key_of(data)
    existing = session.exec(select(Identity).where(Identity.dedupe_key == key)).first()
    if existing is None and data.civilRegistrationId:
        existing = session.exec(
            select(Identity).where(Identity.civil_registration_id == data.civilRegistrationId)
        ).first()
    if existing is not None:
        raise _duplicate(existing)
    identity = new_identity(data, uin=_new_uin(session, rng or _system_rng), key=key, now=now)
    session.add(identity)
    try:
        session.flush()
        if publish:
            assert identity.id is not None
            enrolled = Enrolled(identity.id, identity.uin, data.civilRegistrationId)
            publish_created(session=session, secret=secret, now=now, enrolled=[enrolled])
        session.commit()
    except IntegrityError:
        session.rollback()
        again = session.exec(select(Identity).where(Identity.dedupe_key == key)).first()
        if again is None:
            raise
        raise _duplicate(again) from None
    return identity


def get_by_uin(*, session: Session, uin: str) -> Identity:
    if not ids.is_valid_uin(uin):
        raise MosipError("IDA-MLC-002", status_code=400)
    identity = session.exec(select(Identity).where(Identity.uin == uin)).first()
    if identity is None:
        raise MosipError("IDA-MLC-018", "UIN not available in database", status_code=404)
    return identity


def list_identities(*, session: Session, offset: int, limit: int) -> list[Identity]:
    query = select(Identity).order_by(col(Identity.id)).offset(offset).limit(limit)
    return list(session.exec(query).all())


def update(*, session: Session, uin: str, data: IdentityUpdate, now: datetime) -> Identity:
    identity = get_by_uin(session=session, uin=uin)
    changes = data.model_dump(exclude_unset=True)
    for field, column in (
        ("givenName", "given_name"),
        ("familyName", "family_name"),
        ("dateOfBirth", "date_of_birth"),
        ("gender", "gender"),
        ("address", "address"),
        ("phone", "phone"),
        ("email", "email"),
    ):
        if field in changes:
            if changes[field] is None and column in ("given_name", "family_name", "date_of_birth"):
                raise MosipError("IDA-MLC-009", f"{field} cannot be removed", status_code=400)
            setattr(identity, column, changes[field])
    key = dedupe_key(
        given_name=identity.given_name,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        gender=identity.gender,
    )
    if key != identity.dedupe_key:
        other = session.exec(select(Identity).where(Identity.dedupe_key == key)).first()
        if other is not None:
            session.rollback()
            raise _duplicate(other)
        identity.dedupe_key = key
    identity.updated_at = now
    session.add(identity)
    session.commit()
    return identity


def deactivate(
    *, session: Session, uin: str, reason: str | None, secret: bytes, now: datetime
) -> Identity:
    """Deactivate for good (e.g. death) and tell every sector, each under its own token."""
    identity = get_by_uin(session=session, uin=uin)
    if identity.status == STATUS_DEACTIVATED:
        raise MosipError("IDA-MLC-003", "UIN is already deactivated", status_code=409)
    identity.status = STATUS_DEACTIVATED
    identity.status_reason = reason
    identity.updated_at = now
    session.add(identity)
    payload = {
        "reason": reason,
        "deactivatedAt": iso_z(now),
        "perSubscriber": per_subscriber_tokens(
            session=session, secret=secret, identity=identity, now=now
        ),
    }
    enqueue(session=session, event_type=IDENTITY_DEACTIVATED, payload=payload, now=now)
    session.commit()
    return identity


def set_blocked(
    *, session: Session, uin: str, blocked: bool, reason: str | None, now: datetime
) -> Identity:
    identity = get_by_uin(session=session, uin=uin)
    if identity.status != STATUS_ACTIVE and not blocked:
        raise MosipError("IDA-MLC-003", "A deactivated UIN cannot be unblocked", status_code=409)
    identity.blocked = blocked
    identity.status_reason = reason if blocked else None
    identity.updated_at = now
    session.add(identity)
    session.commit()
    return identity
