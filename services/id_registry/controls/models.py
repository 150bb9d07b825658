"""Mock controls for integrators: MOSIP mock-service "expectations"."""

from __future__ import annotations

from datetime import datetime

from pydantic import model_validator
from sqlmodel import Field, SQLModel

from services.id_registry.base import Base


class ExpectationCreate(SQLModel):
    """Force an error code and/or a delay on IDA calls for an individualId or a partner."""

    individualId: str | None = Field(default=None, min_length=1, max_length=64)
    partnerId: str | None = Field(default=None, min_length=1, max_length=64)
    errorCode: str | None = Field(
        default=None, schema_extra={"pattern": r"^[A-Z]{2,4}-[A-Z]{2,4}-\d{3}$"}
    )
    errorMessage: str | None = Field(default=None, max_length=200)
    delayMs: int = Field(default=0, ge=0, le=30000)

    @model_validator(mode="after")
    def _meaningful(self) -> ExpectationCreate:
        if self.individualId is None and self.partnerId is None:
            raise ValueError("give individualId or partnerId (or both)")
        if self.errorCode is None and self.delayMs == 0:
            raise ValueError("give errorCode or delayMs")
        return self


class ExpectationPublic(ExpectationCreate):
    id: int
    createdAt: datetime


class Expectation(Base, table=True):
    __tablename__ = "mock_expectation"

    id: int | None = Field(default=None, primary_key=True)
    individual_id: str | None = Field(default=None, max_length=64)
    partner_id: str | None = Field(default=None, max_length=64)
    error_code: str | None = Field(default=None, max_length=20)
    error_message: str | None = Field(default=None, max_length=200)
    delay_ms: int = 0
    created_at: datetime

    def public(self) -> ExpectationPublic:
        assert self.id is not None
        return ExpectationPublic.model_construct(
            id=self.id,
            individualId=self.individual_id,
            partnerId=self.partner_id,
            errorCode=self.error_code,
            errorMessage=self.error_message,
            delayMs=self.delay_ms,
            createdAt=self.created_at,
        )
