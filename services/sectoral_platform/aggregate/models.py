"""Aggregate data values, with the columns analytics needs to answer from current data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field

from services.sectoral_platform.base import Base


class DataValueBase(Base):
    value: str | None = Field(default=None)
    comment: str | None = Field(default=None)
    followup: bool = False


class DataValue(DataValueBase, table=True):
    """One value: data element x period x org unit x category option combo x attribute combo.

    `ou_path` (materialised hierarchy path of the org unit) and `num` are denormalised so
    analytics reads one covering index: seek by element and period, range over the path prefix.
    `pe_start`/`pe_end` serve reads by date range.

    On SQLite the rows are stored in the primary key's B-tree (WITHOUT ROWID): a read by data
    element then walks rows, not index entries each fetching its row from a rowid table
    (measured on a streamed export over 600,000 stored values: 3.4 against 12.5 us of CPU per
    value read), and an import writes two B-trees instead of three.
    """

    __tablename__ = "data_value"
    __table_args__ = (
        Index("ix_data_value_analytics", "de", "pe", "ou_path", "num"),
        {"sqlite_with_rowid": False},
    )

    de: str = Field(primary_key=True, max_length=11)
    pe: str = Field(primary_key=True, max_length=16)
    ou: str = Field(primary_key=True, max_length=11)
    co: str = Field(primary_key=True, max_length=11)
    ao: str = Field(primary_key=True, max_length=11)
    ou_path: str = Field(max_length=255)
    pe_start: str = Field(max_length=10)
    pe_end: str = Field(max_length=10)
    num: float | None = None
    stored_by: str | None = Field(default=None, max_length=255)
    created: str = Field(max_length=32)
    last_updated: str = Field(max_length=32)


class DataValuePublic(DataValueBase):
    """A value as DHIS2 shows it in a data value set."""

    dataElement: str
    period: str
    orgUnit: str
    categoryOptionCombo: str
    attributeOptionCombo: str
    storedBy: str | None = None
    created: str
    lastUpdated: str


class ValueSetJob(Base, table=True):
    """An `async=true` data value import, readable through any replica's task endpoints."""

    __tablename__ = "value_set_job"

    uid: str = Field(primary_key=True, max_length=11)
    user: str = Field(max_length=11)
    created: str = Field(max_length=32)
    finished: str | None = Field(default=None, max_length=32)  # when it completed
    failed: str | None = Field(default=None, max_length=255)
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # the process running it, and when it last said so (epoch seconds; see aggregate/jobs.py)
    owner: str = Field(default="", max_length=100)
    heartbeat: float = Field(default=0.0)
