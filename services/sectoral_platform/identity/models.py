"""A registration whose ID check could not run yet: the identifier is kept only encrypted."""

from __future__ import annotations

from sqlmodel import Field

from services.sectoral_platform.base import Base


class PendingVerification(Base, table=True):
    """Dropped as soon as the ID system has answered (verified or refused)."""

    __tablename__ = "pending_verification"

    tracked_entity: str = Field(primary_key=True, max_length=11)
    sealed_request: str  # Fernet token over the IDA request (holds the UIN/VID)
    attempts: int = 0
    created: str = Field(max_length=32)
    last_error: str | None = Field(default=None, max_length=255)


class VerificationOutcome(Base, table=True):
    """What became of a registration's ID check (no identifier, only the outcome)."""

    __tablename__ = "verification_outcome"

    tracked_entity: str = Field(primary_key=True, max_length=11)
    status: str = Field(max_length=24)  # VERIFIED, PENDING_VERIFICATION, REFUSED
    error_code: str | None = Field(default=None, max_length=32)
    updated: str = Field(max_length=32)
