"""Virtual IDs: revocable aliases of a UIN."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import field_validator
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from services.id_registry.base import Base

PERPETUAL = "PERPETUAL"
TEMPORARY = "TEMPORARY"
ACTIVE = "ACTIVE"
REVOKED = "REVOKED"
USED = "USED"
EXPIRED = "EXPIRED"


class VidState(Protocol):
    """A stored VID or the hot path's row of one."""

    @property
    def status(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def transactions_allowed(self) -> int | None: ...
    @property
    def transactions_used(self) -> int: ...


def effective_status(vid: VidState, now: datetime) -> str:
    """ACTIVE until it expires or its transactions are used up; REVOKED stays REVOKED."""
    if vid.status == ACTIVE and vid.expires_at is not None and now >= vid.expires_at:
        return EXPIRED
    if (
        vid.status == ACTIVE
        and vid.transactions_allowed is not None
        and vid.transactions_used >= vid.transactions_allowed
    ):
        return USED
    return vid.status


class VidCreateRequest(SQLModel):
    UIN: str = Field(min_length=1, max_length=20)
    vidType: Literal["PERPETUAL", "TEMPORARY"]
    # Sandbox extensions; MOSIP takes both from the VID policy.
    validityMinutes: int | None = Field(default=None, ge=1, le=525600)
    transactionsAllowed: int | None = Field(default=None, ge=1, le=1000)

    @field_validator("vidType", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class VidStatusRequest(SQLModel):
    vidStatus: Literal["REVOKED"]


class VidCreateEnvelope(SQLModel):
    id: str | None = None
    version: str | None = None
    requestTime: str | None = None
    request: VidCreateRequest


class VidStatusEnvelope(SQLModel):
    id: str | None = None
    version: str | None = None
    requestTime: str | None = None
    request: VidStatusRequest


class Vid(Base, table=True):
    __tablename__ = "vid"

    id: int | None = Field(default=None, primary_key=True)
    vid: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    identity_id: int = Field(foreign_key="identity.id", index=True)
    vid_type: str = Field(max_length=10)
    status: str = Field(default=ACTIVE, max_length=10)
    expires_at: datetime | None = None
    transactions_allowed: int | None = None
    transactions_used: int = 0
    created_at: datetime
    updated_at: datetime

    def effective_status(self, now: datetime) -> str:
        return effective_status(self, now)
