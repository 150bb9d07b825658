"""Entries of the dataStore (owner "") and of each user's userDataStore (owner = user uid)."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field

from services.sectoral_platform.base import Base

SHARED = ""  # the owner of the instance-wide dataStore's entries


class DatastoreEntry(Base, table=True):
    """A JSON value; an encrypted one is kept only sealed (`value` is then None)."""

    __tablename__ = "datastore_entry"
    __table_args__ = (UniqueConstraint("owner", "namespace", "key"),)

    uid: str = Field(primary_key=True, max_length=11)
    owner: str = Field(default=SHARED, max_length=11)
    namespace: str = Field(max_length=255, index=True)
    key: str = Field(max_length=255)
    value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created: str = Field(max_length=32)
    last_updated: str = Field(max_length=32)
    created_by: str = Field(max_length=11)
    last_updated_by: str = Field(max_length=11)


class NamespaceProtection(Base, table=True):
    """A namespace reserved by an installed app: reads and writes need one of `authorities`."""

    __tablename__ = "datastore_protection"

    namespace: str = Field(primary_key=True, max_length=255)
    app_key: str = Field(max_length=255, index=True)
    authorities: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
