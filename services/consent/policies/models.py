"""Policies: the rules under which an organisation's data agreements are governed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Field as Column

from services.consent.base import Base


class PolicyBase(BaseModel):
    """The spec's `Policy` fields."""

    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=50)
    url: str = Field(min_length=1, max_length=2000)
    jurisdiction: str | None = None
    industrySector: str | None = None
    dataRetentionPeriodDays: int | None = Field(default=None, ge=0)
    geographicRestriction: str | None = None
    storageLocation: str | None = None


class PolicyCreate(PolicyBase):
    """A policy as posted; an `id` in the body is ignored (the service assigns it)."""

    id: str | None = None


class PolicyUpdate(PolicyCreate):
    """A policy as put: the whole object."""


class PolicyPublic(PolicyBase):
    id: str


class PolicyEnvelope(BaseModel):
    policy: PolicyCreate


class Policy(Base, table=True):
    __tablename__ = "policy"

    id: str = Column(primary_key=True)
    name: str
    version: str
    url: str
    jurisdiction: str | None = None
    industry_sector: str | None = None
    data_retention_period_days: int | None = None
    geographic_restriction: str | None = None
    storage_location: str | None = None
    deleted: bool = Column(default=False, index=True)
    created_at: datetime

    def public(self) -> PolicyPublic:
        return PolicyPublic(
            id=self.id,
            name=self.name,
            version=self.version,
            url=self.url,
            jurisdiction=self.jurisdiction,
            industrySector=self.industry_sector,
            dataRetentionPeriodDays=self.data_retention_period_days,
            geographicRestriction=self.geographic_restriction,
            storageLocation=self.storage_location,
        )

    def apply(self, data: PolicyBase) -> None:
        self.name = data.name
        self.version = data.version
        self.url = data.url
        self.jurisdiction = data.jurisdiction
        self.industry_sector = data.industrySector
        self.data_retention_period_days = data.dataRetentionPeriodDays
        self.geographic_restriction = data.geographicRestriction
        self.storage_location = data.storageLocation
