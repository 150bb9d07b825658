"""Personal access tokens (`ApiToken d2pat_...`); users themselves are metadata."""

from __future__ import annotations

from sqlmodel import Field

from services.sectoral_platform.base import Base


class ApiTokenBase(Base):
    owner: str = Field(index=True, max_length=11)
    expire: int | None = None  # epoch milliseconds, as DHIS2 sends it


class ApiToken(ApiTokenBase, table=True):
    """Only the SHA-256 of the key is stored, as DHIS2 does."""

    __tablename__ = "api_token"

    uid: str = Field(primary_key=True, max_length=11)
    key_hash: str = Field(index=True, unique=True, max_length=64)
    created: str = Field(max_length=32)
