"""The master facility list and administrative hierarchy: one row per place.

Each row is served twice in FHIR mCSD: as a `Location` (with `partOf`) and as the
`Organization` that runs it (facility or jurisdiction), sharing id, code and `lastUpdated`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field

from services.kernel.time import utcnow
from services.registries.base import Base

Level = Literal["country", "region", "district", "facility"]
FACILITY_TYPES = ("hospital", "health-centre", "dispensary", "clinic")


class PlaceBase(Base):
    name: str = Field(max_length=200)
    level: str = Field(max_length=20, index=True)
    type_code: str = Field(max_length=40)
    parent_id: str | None = Field(default=None, index=True, max_length=64)
    latitude: float
    longitude: float
    status: str = Field(default="active", max_length=20)


class Place(PlaceBase, table=True):
    """`id` is the stable code (`XD-R01-D02-F003`); it never changes, even on a move."""

    __table_args__ = (Index("ix_place_updated_id", "last_updated", "id"),)

    id: str = Field(primary_key=True, max_length=64)
    last_updated: datetime = Field(default_factory=utcnow)
    version_id: int = 1


class FacilityCreate(BaseModel):
    """Add a facility to a district."""

    model_config = ConfigDict(extra="forbid")

    name: str = PydanticField(min_length=1, max_length=200)
    district: str = PydanticField(min_length=1, max_length=64, description="Parent district id")
    type: Literal["hospital", "health-centre", "dispensary", "clinic"] = "health-centre"
    latitude: float | None = PydanticField(default=None, ge=-90, le=90)
    longitude: float | None = PydanticField(default=None, ge=-180, le=180)
    code: str | None = PydanticField(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-.]+$"
    )


class FacilityUpdate(BaseModel):
    """Rename a facility, move it to another district, or change its status."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = PydanticField(default=None, min_length=1, max_length=200)
    district: str | None = PydanticField(default=None, min_length=1, max_length=64)
    status: Literal["active", "inactive", "suspended"] | None = None
