"""Partners (relying parties): policy, API key, status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from services.id_registry.base import Base

AuthType = Literal["otp", "demo", "otp-request"]
KycAttribute = Literal[
    "fullName", "givenName", "familyName", "dateOfBirth", "gender", "address", "phone", "email"
]
PARTNER_ACTIVE = "ACTIVE"
PARTNER_DEACTIVATED = "DEACTIVATED"


class KycAttributeRule(SQLModel):
    attributeName: KycAttribute


class Policy(SQLModel):
    """MOSIP auth policy, reduced to what the sandbox enforces."""

    authTokenType: Literal["partner"] = "partner"
    allowedAuthTypes: list[AuthType] = Field(default_factory=list)
    allowedKycAttributes: list[KycAttributeRule] = Field(default_factory=list)
    # A sandbox extension: IDA requests may come unencrypted and unsigned (the scenario partners)
    allowPlaintextRequests: bool = False

    def allows_otp_request(self) -> bool:
        return "otp" in self.allowedAuthTypes or "otp-request" in self.allowedAuthTypes

    def kyc_attributes(self) -> list[str]:
        return [rule.attributeName for rule in self.allowedKycAttributes]


class PartnerBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)


class PartnerCreate(PartnerBase):
    partnerId: str = Field(
        min_length=2, max_length=64, schema_extra={"pattern": r"^[a-z0-9][a-z0-9._-]*$"}
    )
    policy: Policy
    apiKey: str | None = Field(default=None, min_length=12, max_length=128)


class PartnerUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    policy: Policy | None = None
    status: Literal["ACTIVE", "DEACTIVATED"] | None = None


class PartnerPublic(PartnerBase):
    partnerId: str
    policy: Policy
    status: str


class PartnerCreated(PartnerPublic):
    apiKey: str


class Partner(Base, table=True):
    __tablename__ = "partner"

    partner_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)
    api_key_hash: str = Field(max_length=64)
    policy: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PARTNER_ACTIVE, max_length=12)
    created_at: datetime
    updated_at: datetime

    def public(self) -> PartnerPublic:
        return PartnerPublic(
            partnerId=self.partner_id,
            name=self.name,
            policy=Policy.model_validate(self.policy),
            status=self.status,
        )


class PartnerCertificateRow(Base, table=True):
    """A partner's certificate (PMS "partner certificate upload"): verifies its `Signature`
    headers and encrypts its eKYC answers. One per partner; a new upload replaces it."""

    __tablename__ = "partner_certificate"

    partner_id: str = Field(primary_key=True, foreign_key="partner.partner_id", max_length=64)
    certificate_id: str = Field(max_length=64)
    certificate_pem: str = Field(sa_type=Text)
    uploaded_at: datetime


class CertificateUpload(SQLModel):
    partnerId: str = Field(min_length=2, max_length=64)
    certificateData: str = Field(min_length=1, max_length=20_000)
    partnerDomain: Literal["AUTH"]


class CertificateUploadRequest(SQLModel):
    id: str | None = None
    version: str | None = None
    requesttime: str | None = None
    request: CertificateUpload
