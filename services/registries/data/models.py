"""Registry records, their version history, and the log of personal data reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from services.kernel.time import utcnow
from services.registries.base import Base


class Record(Base, table=True):
    """One record of one registry version, keyed by the registry's primary key field."""

    __table_args__ = (UniqueConstraint("registry_id", "key", name="uq_record_registry_key"),)

    id: int | None = Field(default=None, primary_key=True)
    registry_id: int = Field(foreign_key="registry.id", index=True)
    key: str = Field(max_length=200)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RecordVersion(Base, table=True):
    """Who changed a record, when, and what: kept even after the record is deleted."""

    __table_args__ = (Index("ix_record_version_key", "registry_id", "key", "version", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    registry_id: int = Field(index=True)
    key: str = Field(max_length=200)
    version: int
    action: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow)
    content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class DataAccess(Base, table=True):
    """One read of one person's data: who read it, from which system, why, and which records."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    registry_id: int = Field(index=True)
    person_id: str = Field(index=True, max_length=200)
    operation: str = Field(max_length=30)
    reader_id: str = Field(max_length=200)
    reader_client: str = Field(max_length=200)
    purpose: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow)
    references: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Content(BaseModel):
    """`{"content": {...}}`, the envelope of every Data API query and write."""

    model_config = ConfigDict(extra="forbid")
    content: dict[str, Any]


class WriteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    write: Content


class QueryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Content


class QueryWriteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Content | None = None
    write: Content
