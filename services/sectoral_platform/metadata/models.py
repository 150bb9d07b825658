"""One table for every metadata type: the schema registry gives each row its meaning."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.sectoral_platform.base import Base


class MetadataObjectBase(Base):
    type: str = Field(index=True, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MetadataObject(MetadataObjectBase, table=True):
    """A stored metadata object; `data` holds its owner properties exactly as DHIS2 names them."""

    __tablename__ = "metadata_object"

    uid: str = Field(primary_key=True, max_length=11)


class MetadataStamp(Base, table=True):
    """One row: a random stamp every metadata write replaces, in its transaction. A replica whose
    read model was loaded under another stamp reads the metadata again (`MetadataStore.refresh`)."""

    __tablename__ = "metadata_stamp"

    id: int = Field(default=1, primary_key=True)
    stamp: str = Field(max_length=32)
