"""Individuals: the consent service's reference to a person (its own partner token)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Field as Column

from services.consent.base import Base


class IndividualBase(BaseModel):
    """The spec's `Individual` fields. `externalId` is the person's `dpa-consent` token."""

    externalId: str | None = Field(default=None, min_length=1, max_length=200)
    externalIdType: str | None = Field(default=None, max_length=100)
    identityProviderId: str | None = Field(default=None, max_length=200)


class IndividualCreate(IndividualBase):
    id: str | None = None


class IndividualUpdate(IndividualCreate):
    """The whole Individual, as put."""


class IndividualPublic(IndividualBase):
    id: str


class IndividualEnvelope(BaseModel):
    individual: IndividualCreate


class Individual(Base, table=True):
    __tablename__ = "individual"

    id: str = Column(primary_key=True)
    external_id: str | None = Column(default=None, unique=True, index=True)
    external_id_type: str | None = None
    identity_provider_id: str | None = None
    created_at: datetime

    def public(self) -> IndividualPublic:
        return IndividualPublic(
            id=self.id,
            externalId=self.external_id,
            externalIdType=self.external_id_type,
            identityProviderId=self.identity_provider_id,
        )

    @property
    def subject(self) -> str:
        """How decisions name this person: its external id (token), else its own id."""
        return self.external_id or self.id
