"""Decisions: the mediator's question, the answer, and the stored audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import JSON
from sqlmodel import Field as Column

from services.consent.agreements.models import CODE_PATTERN, MEMBER_ID_PATTERN
from services.consent.base import Base


class DecisionRequest(BaseModel):
    """Subject is the consent service's token for the person (or its individual id)."""

    subject: str = Field(min_length=1, max_length=200)
    dataConsumer: str = Field(pattern=MEMBER_ID_PATTERN, max_length=200)
    dataProvider: str = Field(pattern=MEMBER_ID_PATTERN, max_length=200)
    purpose: str = Field(pattern=CODE_PATTERN)
    dataCategories: list[str] = Field(min_length=1, max_length=50)
    at: datetime | None = None


class DecisionPublic(BaseModel):
    decision: Literal["permit", "deny"]
    decisionId: str
    consentRecordId: str | None
    reason: str
    reasonCode: str


class DecisionAudit(BaseModel):
    """A stored decision as auditors see it: no subject, only whether it is still linkable."""

    decisionId: str
    decision: str
    reasonCode: str
    reason: str
    consentRecordId: str | None
    dataConsumer: str
    dataProvider: str
    purpose: str
    dataCategories: list[str]
    at: str
    recordedAt: str
    subjectLinked: bool


class DecisionList(BaseModel):
    decisions: list[DecisionAudit]


class Decision(Base, table=True):
    """Ids are time-ordered (UUIDv7), so the primary key is also the chronological order and
    the only index: random-keyed indexes would scatter every batch of decisions over the whole
    table. Lookups by subject hash (erasure) or record (audit filter) scan, and are rare."""

    __tablename__ = "decision"

    id: str = Column(primary_key=True)
    subject_hash: str | None = None
    data_consumer: str
    data_provider: str
    purpose: str
    data_categories: list[str] = Column(sa_type=JSON)
    decision: str
    reason_code: str
    reason: str
    consent_record_id: str | None = None
    decided_at: datetime
    created_at: datetime
