"""Tables of the authentication side: the OTP outbox ("sent" OTPs) and the audit of attempts."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from services.id_registry.base import Base


class OtpMessage(Base, table=True):
    """An OTP as "sent" to the person; the sandbox keeps it readable by admins instead of SMS."""

    __tablename__ = "otp_outbox"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="identity.id", index=True)
    partner_id: str = Field(max_length=64)
    individual_id: str = Field(max_length=64, index=True)
    transaction_id: str = Field(max_length=64)
    channels: str = Field(max_length=40)
    masked_mobile: str | None = Field(default=None, max_length=40)
    masked_email: str | None = Field(default=None, max_length=200)
    otp: str = Field(max_length=12)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class OtpMessagePublic(SQLModel):
    id: int
    individualId: str
    partnerId: str
    transactionID: str
    channels: list[str]
    maskedMobile: str | None
    maskedEmail: str | None
    otp: str
    createdAt: datetime
    expiresAt: datetime
    usedAt: datetime | None


class AuthAudit(Base, table=True):
    """One row per IDA attempt; never the OTP, the demographics or the raw individual id."""

    __tablename__ = "auth_audit"

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: str = Field(max_length=64, index=True)
    partner_id: str = Field(max_length=64, index=True)
    request_type: str = Field(max_length=8)
    auth_types: str = Field(default="", max_length=40)
    individual_id_type: str = Field(max_length=8)
    individual_ref: str = Field(max_length=20)
    status: str = Field(max_length=8)
    error_codes: str = Field(default="", max_length=200)
    created_at: datetime


class AuthAuditPublic(SQLModel):
    id: int
    transactionID: str
    partnerId: str
    requestType: str
    authTypes: list[str]
    individualIdType: str
    individualRef: str
    status: str
    errorCodes: list[str]
    createdAt: datetime
