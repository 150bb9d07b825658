"""Data agreements: one purpose an individual can consent to, with who may use which data."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import JSON
from sqlmodel import Field as Column

from services.consent.base import Base
from services.consent.policies.models import PolicyPublic
from services.consent.unimplemented import UnimplementedField

MEMBER_ID_PATTERN = r"^[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$"
CODE_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
LAWFUL_BASES = (
    "consent",
    "legal_obligation",
    "contract",
    "vital_interest",
    "public_task",
    "legitimate_interest",
)


class Controller(BaseModel):
    id: str
    name: str
    url: str


class DataAgreementLifecycle(BaseModel):
    id: str
    name: str


class DataAgreementAttribute(BaseModel):
    """What data is covered; `category` is the data category decisions match on."""

    id: str | None = None
    name: str = Field(min_length=1, max_length=200)
    sensitivity: str = Field(min_length=1, max_length=100)
    category: str = Field(pattern=CODE_PATTERN)


class Period(BaseModel):
    """DEPA `{unit, value}` (Frequency, DataLife)."""

    unit: Literal["HOUR", "DAY", "MONTH", "YEAR", "INF"]
    value: int = Field(ge=0)


class ArtefactTemplate(BaseModel):
    """DEPA defaults for the consent artefacts of records given to this agreement."""

    consentMode: Literal["VIEW", "STORE", "QUERY", "STREAM"] = "QUERY"
    fetchType: Literal["ONETIME", "PERIODIC"] = "PERIODIC"
    Frequency: Period = Period(unit="DAY", value=10)
    DataLife: Period = Period(unit="DAY", value=0)
    validityDays: int = Field(default=365, ge=1, le=36500)


class DataAgreementBase(BaseModel):
    """The spec's `DataAgreement` fields plus the sandbox's who/what extension fields."""

    version: str = Field(min_length=1, max_length=50)
    controller: Controller | None = None
    purpose: str = Field(min_length=1, max_length=500)
    lawfulBasis: str
    dataUse: str | None = None
    dpia: str = Field(min_length=1, max_length=2000)
    active: bool = True
    forgettable: bool = True
    lifecycle: DataAgreementLifecycle | None = None
    purposeCode: str = Field(pattern=CODE_PATTERN, description="Machine purpose code (sandbox)")
    dataConsumer: str = Field(pattern=MEMBER_ID_PATTERN, description="Consumer member id")
    dataProvider: str = Field(pattern=MEMBER_ID_PATTERN, description="Provider member id")
    dataAttributes: list[DataAgreementAttribute] = Field(min_length=1)
    consentArtefactTemplate: ArtefactTemplate = ArtefactTemplate()

    @field_validator("lawfulBasis")
    @classmethod
    def _lawful(cls, value: str) -> str:
        if value not in LAWFUL_BASES:
            raise ValueError(f"must be one of {', '.join(LAWFUL_BASES)}")
        return value


class DataAgreementCreate(DataAgreementBase):
    """As posted: `policy` names an existing policy by id (or carries one with an `id`)."""

    id: str | None = None
    policy: dict[str, Any] | str
    compatibleWithVersion: UnimplementedField = None  # the spec's "WIP" record transfer
    signature: UnimplementedField = None  # agreements are not signed here


class DataAgreementPublic(DataAgreementBase):
    id: str
    policy: PolicyPublic | None
    dataCategories: list[str]
    compatibleWithVersion: str | None = None
    signature: str | None = Field(default=None, description="Agreements are not signed here")


class DataAgreementEnvelope(BaseModel):
    dataAgreement: DataAgreementCreate


class DataAgreement(Base, table=True):
    __tablename__ = "data_agreement"

    id: str = Column(primary_key=True)
    version: str
    controller: dict[str, Any] | None = Column(default=None, sa_type=JSON)
    policy_id: str = Column(index=True)
    purpose: str
    lawful_basis: str
    data_use: str | None = None
    dpia: str
    active: bool = True
    forgettable: bool = True
    lifecycle: dict[str, Any] | None = Column(default=None, sa_type=JSON)
    purpose_code: str = Column(index=True)
    data_consumer: str
    data_provider: str
    data_attributes: list[dict[str, Any]] = Column(sa_type=JSON)
    artefact_template: dict[str, Any] = Column(sa_type=JSON)
    deleted: bool = Column(default=False, index=True)
    created_at: datetime

    @property
    def categories(self) -> list[str]:
        return sorted({str(a["category"]) for a in self.data_attributes})
