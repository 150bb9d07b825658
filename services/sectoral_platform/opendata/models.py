"""A publication: an immutable snapshot of suppressed aggregate counts."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field

from services.sectoral_platform.base import Base


class Publication(Base, table=True):
    """The public document is stored as rendered, so every read returns exactly what was
    published; the few columns beside it serve the list."""

    __tablename__ = "open_data_publication"

    uid: str = Field(primary_key=True, max_length=11)
    title: str = Field(max_length=230)
    published: str = Field(max_length=32, index=True)
    threshold: int
    org_unit_level: int
    cell_count: int
    suppressed_cell_count: int
    published_by: str = Field(max_length=11)
    document: str = Field(sa_column=Column(Text, nullable=False))
