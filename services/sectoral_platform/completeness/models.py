"""One registration: a data set reported complete for a period, org unit and attribute combo."""

from __future__ import annotations

from sqlmodel import Field

from services.sectoral_platform.base import Base


class CompleteRegistration(Base, table=True):
    __tablename__ = "complete_data_set_registration"

    ds: str = Field(primary_key=True, max_length=11)
    pe: str = Field(primary_key=True, max_length=16)
    ou: str = Field(primary_key=True, max_length=11)
    ao: str = Field(primary_key=True, max_length=11)
    ou_path: str = Field(max_length=255)
    pe_start: str = Field(max_length=10)
    pe_end: str = Field(max_length=10)
    date: str = Field(max_length=32)
    stored_by: str = Field(max_length=255)
    completed: bool = True
    last_updated: str = Field(max_length=32)
