"""The token exchange's request and answer."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class TokenExchangeRequest(SQLModel):
    fromPartnerId: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=128)
    toPartnerIds: list[str] = Field(min_length=1, max_length=20)


class TokenExchangeResponse(SQLModel):
    tokens: dict[str, str]
