"""Subsystems (the callers and providers) and the API keys an administrator issued to them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base
from services.kernel.time import utcnow


class SubsystemBase(Base):
    id: str = Field(primary_key=True, max_length=200)
    name: str = Field(default="", max_length=200)


class Subsystem(SubsystemBase, table=True):
    __tablename__ = "im_subsystem"

    source: str = Field(default="admin", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class SubsystemCreate(CamelModel):
    id: str
    name: str = ""


class SubsystemPublic(CamelModel):
    id: str
    name: str
    source: str


class ClientKey(Base, table=True):
    __tablename__ = "im_client_key"

    id: str = Field(primary_key=True, max_length=40)
    subsystem_id: str = Field(index=True, max_length=200)
    key_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class ClientKeyCreate(CamelModel):
    subsystem: str
    label: str = ""


class ClientKeyPublic(CamelModel):
    id: str
    subsystem: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


class ClientKeyIssued(ClientKeyPublic):
    key: str


class SeedMarker(Base, table=True):
    """Seeds applied once per database, so that an administrator's later changes stick."""

    __tablename__ = "im_seed_marker"

    name: str = Field(primary_key=True, max_length=100)
    applied_at: datetime = Field(default_factory=utcnow)
