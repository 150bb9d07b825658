"""Where the last facility registry sync stopped."""

from __future__ import annotations

from sqlmodel import Field

from services.sectoral_platform.base import Base


class FacilitySyncState(Base, table=True):
    """The largest `meta.lastUpdated` seen: the next sync asks only for later changes."""

    __tablename__ = "facility_sync_state"

    source: str = Field(primary_key=True, max_length=64)
    last_updated: str = Field(max_length=40)
    synced_at: str = Field(max_length=32)
