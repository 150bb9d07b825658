"""Civil registration events pushed by the mediator to the inbox: a birth enrols the child, a
death deactivates the identity enrolled from that birth. Delivered at least once: idempotent."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from services.id_registry.events.models import Birth, Death
from services.id_registry.identities import service as identities
from services.id_registry.identities.models import STATUS_DEACTIVATED, Identity, IdentityCreate


def _by_civil_id(session: Session, civil_id: str) -> Identity | None:
    return session.exec(select(Identity).where(Identity.civil_registration_id == civil_id)).first()


def on_birth(*, session: Session, birth: Birth, secret: bytes, now: datetime) -> str:
    if _by_civil_id(session, birth.civilRegistrationId) is not None:
        return "already-enrolled"
    child = birth.child
    identities.enrol(
        session=session,
        data=IdentityCreate(
            givenName=child.givenName,
            familyName=child.familyName,
            dateOfBirth=child.dateOfBirth,
            gender="other" if child.sex == "unknown" else child.sex,
            civilRegistrationId=birth.civilRegistrationId,
        ),
        secret=secret,
        now=now,
    )
    return "enrolled"


def on_death(*, session: Session, death: Death, secret: bytes, now: datetime) -> str:
    identity = (
        _by_civil_id(session, death.birthRegistrationId) if death.birthRegistrationId else None
    )
    if identity is None:
        return "no-identity"  # e.g. born before civil registration was linked to the ID system
    if identity.status == STATUS_DEACTIVATED:
        return "already-deactivated"
    identities.deactivate(session=session, uin=identity.uin, reason="death", secret=secret, now=now)
    return "deactivated"
