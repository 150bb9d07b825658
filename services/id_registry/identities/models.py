"""Identity records: demographics, UIN, lifecycle status, and the partner tokens issued."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import field_validator
from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.id_registry.base import Base

Gender = Literal["female", "male", "other"]
STATUS_ACTIVE = "ACTIVATED"
STATUS_DEACTIVATED = "DEACTIVATED"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class IdentityBase(SQLModel):
    given_name: str = Field(min_length=1, max_length=120)
    family_name: str = Field(min_length=1, max_length=120)
    date_of_birth: date
    gender: str = Field(max_length=10)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    language: str = Field(default="eng", max_length=3)


class IdentityCreate(SQLModel):
    """Enrolment request (admin API)."""

    givenName: str = Field(min_length=1, max_length=120)
    familyName: str = Field(min_length=1, max_length=120)
    dateOfBirth: date
    gender: Gender
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(
        default=None, max_length=40, schema_extra={"pattern": r"^\+?[0-9 ()-]{4,40}$"}
    )
    email: str | None = Field(default=None, max_length=200, schema_extra={"pattern": EMAIL_PATTERN})
    language: str = Field(default="eng", schema_extra={"pattern": r"^[a-z]{3}$"})
    civilRegistrationId: str | None = Field(default=None, max_length=80)

    @field_validator("givenName", "familyName")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class IdentityBatch(SQLModel):
    """Batch enrolment request (admin API): up to `MAX_BATCH_ENROLMENTS` people, in order."""

    identities: list[IdentityCreate] = Field(min_length=1)


class BatchItem(SQLModel):
    """One person's result: 201 and the UIN issued, or the error of a single enrolment."""

    status: int
    UIN: str | None = None
    errors: list[dict[str, str]] | None = None


class BatchEnrolment(SQLModel):
    enrolled: int
    refused: int
    results: list[BatchItem]


class IdentityUpdate(SQLModel):
    """Demographic update (admin API): only the fields given change."""

    givenName: str | None = Field(default=None, min_length=1, max_length=120)
    familyName: str | None = Field(default=None, min_length=1, max_length=120)
    dateOfBirth: date | None = None
    gender: Gender | None = None
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(
        default=None, max_length=40, schema_extra={"pattern": r"^\+?[0-9 ()-]{4,40}$"}
    )
    email: str | None = Field(default=None, max_length=200, schema_extra={"pattern": EMAIL_PATTERN})


class StatusChange(SQLModel):
    reason: str | None = Field(default=None, max_length=200)


class Identity(Base, IdentityBase, table=True):
    __tablename__ = "identity"

    id: int | None = Field(default=None, primary_key=True)
    uin: str = Field(sa_column=Column(String(10), unique=True, nullable=False))
    dedupe_key: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    civil_registration_id: str | None = Field(default=None, max_length=80, index=True)
    status: str = Field(default=STATUS_ACTIVE, max_length=12)
    blocked: bool = False
    status_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime
    updated_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PartnerToken(Base, table=True):
    """Every PSUT ever issued, so the mediator's token exchange can find the person again."""

    __tablename__ = "partner_token"
    # Also the index of lookups by identity: a second one on identity_id alone would only add
    # a page write to every token recorded on the authentication hot path.
    __table_args__ = (UniqueConstraint("identity_id", "partner_id"),)

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id")
    partner_id: str = Field(max_length=64)
    token: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    issued_at: datetime
