"""Consent records (with their DEPA artefact fields) and signatures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field as Column
from sqlmodel import Text

from services.consent.agreements.models import DataAgreementPublic, Period
from services.consent.base import Base
from services.consent.individuals.models import IndividualPublic
from services.consent.revisions.models import RevisionPublic

ArtefactStatus = Literal["PENDING", "ACTIVE", "REVOKED", "EXPIRED", "PAUSED"]
RecordState = Literal["unsigned", "signed"]


class Party(BaseModel):
    id: str
    type: str


class Customer(BaseModel):
    id: str


class Purpose(BaseModel):
    code: str
    text: str


class DataRange(BaseModel):
    model_config = {"populate_by_name": True}

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class ConsentArtefact(BaseModel):
    """DEPA consent artefact fields of a record (`status` is computed at read time)."""

    status: ArtefactStatus
    consentStart: str | None
    consentExpiry: str | None
    consentMode: str
    fetchType: str
    Frequency: Period
    DataLife: Period
    dataRange: DataRange | None = None
    DataConsumer: Party
    DataProvider: Party
    Customer: Customer
    Purpose: Purpose
    dataCategories: list[str]
    signature: str | None = Field(
        default=None, description="Detached JWS (ES256) of the service over this artefact"
    )


class ArtefactInput(BaseModel):
    """What an individual may choose when consenting or updating (restricted field set); the
    artefact's other fields come from the data agreement and the decision's parties, so giving
    one is refused by name (`extra_forbidden`), never taken as applied."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ACTIVE", "PAUSED"] | None = None
    consentStart: datetime | None = None
    consentExpiry: datetime | None = None
    dataRange: DataRange | None = None


class ConsentRecordPublic(BaseModel):
    """The spec's `ConsentRecord`, its references as the objects they name, and the artefact."""

    id: str | None
    dataAgreement: DataAgreementPublic | None = None
    dataAgreementRevision: RevisionPublic | None = None
    dataAgreementRevisionHash: str
    individual: IndividualPublic | None = None
    optIn: bool = True
    state: RecordState = "unsigned"
    signature: SignaturePublic | None = None
    consentArtefact: ConsentArtefact


def _id_of(value: Any) -> Any:
    """A reference given as the object (as records are served) or as its id."""
    return value.get("id") if isinstance(value, dict) else value


Reference = Annotated[str, BeforeValidator(_id_of)]


class ConsentRecordCreate(BaseModel):
    """A draft record posted back with its signature (`POST .../consent-record/`)."""

    id: str | None = None
    dataAgreement: Reference
    dataAgreementRevision: Reference | None = None
    dataAgreementRevisionHash: str
    individual: Reference
    optIn: bool = True
    state: str | None = None
    consentArtefact: ArtefactInput | dict[str, Any] | None = None


class ConsentRecordUpdate(BaseModel):
    """An update: only `optIn` and the artefact's `status`/`consentExpiry` may change. The
    spec's other `ConsentRecord` fields are taken only as they stand (a record read and sent
    back): `state` is kept by the service, the signature changes through its own endpoint."""

    id: str | None = None
    dataAgreement: Reference | None = None
    dataAgreementRevision: Reference | None = None
    dataAgreementRevisionHash: str | None = None
    individual: Reference | None = None
    optIn: bool | None = None
    state: str | None = None
    signature: Reference | None = None
    consentArtefact: ArtefactInput | None = None


class ConsentRecordUpdateEnvelope(BaseModel):
    consentRecord: ConsentRecordUpdate


class ConsentOptions(BaseModel):
    """Optional body of the create operation (the spec defines none): the artefact choices."""

    consentArtefact: ArtefactInput | None = None


class ConsentRecord(Base, table=True):
    __tablename__ = "consent_record"
    __table_args__ = (
        UniqueConstraint("data_agreement_revision_id", "individual_id"),
        Index("ix_consent_record_subject_agreement", "subject", "data_agreement_id"),
    )

    id: str = Column(primary_key=True)
    data_agreement_id: str = Column(index=True)
    data_agreement_revision_id: str
    data_agreement_revision_hash: str
    individual_id: str = Column(index=True)
    subject: str
    opt_in: bool = True
    state: str = "unsigned"
    signature_id: str | None = None
    status: str = "ACTIVE"
    consent_start: datetime
    consent_expiry: datetime
    consent_mode: str
    fetch_type: str
    frequency: dict[str, Any] = Column(sa_type=JSON)
    data_life: dict[str, Any] = Column(sa_type=JSON)
    data_range: dict[str, Any] | None = Column(default=None, sa_type=JSON)
    data_consumer: str
    data_provider: str
    purpose_code: str
    purpose_text: str
    data_categories: list[str] = Column(sa_type=JSON)
    artefact_signature: str | None = Column(default=None, sa_type=Text)
    created_at: datetime
    updated_at: datetime


class SignatureBase(BaseModel):
    """The spec's `Signature` fields."""

    payload: str | None = None
    signature: str | None = None
    verificationMethod: str | None = None
    verificationPayload: str | None = None
    verificationPayloadHash: str | None = None
    verificationArtifact: str | None = None
    verificationSignedBy: str | None = None
    verificationSignedAs: str | None = None
    verificationJwsHeader: str | None = None
    timestamp: str | None = None
    signedWithoutObjectReference: bool | None = None
    objectType: str | None = None
    objectReference: str | None = None


class SignatureCreate(SignatureBase):
    id: str | None = None


class SignaturePublic(SignatureBase):
    id: str | None


class SignatureEnvelope(BaseModel):
    signature: SignatureCreate


class ConsentRecordSignatureEnvelope(BaseModel):
    consentRecord: ConsentRecordCreate
    signature: SignatureCreate


class Signature(Base, table=True):
    __tablename__ = "signature"

    id: str = Column(primary_key=True)
    consent_record_id: str | None = Column(default=None, index=True)
    payload: str = Column(sa_type=Text)
    signature: str | None = Column(default=None, sa_type=Text)
    verification_method: str
    verification_payload: str = Column(sa_type=Text)
    verification_payload_hash: str
    verification_artifact: str | None = Column(default=None, sa_type=Text)
    verification_signed_by: str
    verification_signed_as: str | None = None
    verification_jws_header: str | None = Column(default=None, sa_type=Text)
    timestamp: datetime
    signed_without_object_reference: bool = False
    object_type: str
    object_reference: str | None = None
