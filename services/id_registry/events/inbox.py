"""Civil registration events pushed by the mediator: a birth enrols the child, a death
deactivates the identity enrolled from that birth. Deliveries are at least once: idempotent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, select

from services.id_registry.deps import NowDep, RuntimeDep, SettingsDep
from services.id_registry.errors import MosipError
from services.id_registry.identities import service as identities
from services.id_registry.identities.models import STATUS_DEACTIVATED, Identity, IdentityCreate
from services.kernel.credentials import MediatorDep
from services.kernel.db import SessionDep

router = APIRouter(prefix="/v1/events", tags=["events (mediator push)"])
BIRTH, DEATH = "birth-registered", "death-registered"


class Child(BaseModel):
    model_config = ConfigDict(extra="ignore")

    givenName: str = Field(min_length=1, max_length=120)
    familyName: str = Field(min_length=1, max_length=120)
    sex: Literal["female", "male", "other", "unknown"]
    dateOfBirth: date


class Birth(BaseModel):
    model_config = ConfigDict(extra="ignore")

    civilRegistrationId: str = Field(min_length=1, max_length=80)
    child: Child


class Death(BaseModel):
    model_config = ConfigDict(extra="ignore")

    civilRegistrationId: str = Field(min_length=1, max_length=80)
    birthRegistrationId: str | None = Field(default=None, max_length=80)
    dateOfDeath: date | None = None


class EventItem(BaseModel):
    """GovStack IM's delivered event: the payload is under `event`."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    eventType: str
    event: dict[str, Any]


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


@router.post("/inbox", summary="Receive civil registration events (PUSH from the mediator)")
def inbox(
    item: EventItem,
    runtime: RuntimeDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    _: MediatorDep,
) -> dict[str, str]:
    secret = settings.token_secret()
    try:
        if item.eventType == BIRTH:
            outcome = on_birth(
                session=session, birth=Birth.model_validate(item.event), secret=secret, now=now
            )
        elif item.eventType == DEATH:
            outcome = on_death(
                session=session, death=Death.model_validate(item.event), secret=secret, now=now
            )
        else:
            raise MosipError("IDA-MLC-009", f"Unsupported event type {item.eventType!r}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MosipError("IDA-MLC-009", f"Invalid Input Parameter - event.{where}") from None
    if outcome in ("enrolled", "deactivated"):
        runtime.people.invalidate()
        runtime.drainer.notify()
    return {"eventId": item.id or "", "outcome": outcome}
