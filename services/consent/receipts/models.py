"""Signed consent receipts (Kantara Consent Receipt v1.1 / ISO/IEC TS 27560 shaped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import JSON
from sqlalchemy import Column as SAColumn
from sqlmodel import Field as Column
from sqlmodel import Text

from services.consent.base import Base


class Receipt(Base, table=True):
    __tablename__ = "receipt"

    id: str = Column(primary_key=True)
    consent_record_id: str = Column(index=True)
    individual_id: str = Column(index=True)
    kind: str
    jws: str = Column(sa_type=Text)
    created_at: datetime


class SigningKey(Base, table=True):
    """The ES256 key receipts and consent records are signed with: one for every replica."""

    __tablename__ = "consent_signing_key"

    kid: str = Column(primary_key=True, max_length=64)
    private_jwk: dict[str, Any] = Column(sa_column=SAColumn(JSON, nullable=False))
    created_at: datetime


class ReceiptPublic(BaseModel):
    consentReceiptID: str
    consentRecordId: str
    kind: Literal["grant", "withdrawal"]
    jws: str = Field(description="Compact JWS (ES256) whose payload is the receipt")
    receipt: dict[str, Any]


class ReceiptList(BaseModel):
    receipts: list[ReceiptPublic]


class VerifyRequest(BaseModel):
    jws: str = Field(min_length=1, max_length=100_000)


class VerifyResult(BaseModel):
    valid: bool
    kid: str | None = None
    receipt: dict[str, Any] | None = None
    reason: str | None = None
