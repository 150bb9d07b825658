"""Routes: a target URL, static headers, an authentication scheme whose secrets are kept only
sealed, the authorities that may run it, a response timeout."""

from __future__ import annotations

from sqlalchemy import Column, Text
from sqlmodel import Field

from services.sectoral_platform.base import Base


class RouteRow(Base, table=True):
    __tablename__ = "route"

    uid: str = Field(primary_key=True, max_length=11)
    code: str | None = Field(default=None, max_length=50, unique=True)
    name: str = Field(max_length=230)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    disabled: bool = False
    url: str = Field(sa_column=Column(Text, nullable=False))
    headers: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON, not secret
    auth_type: str | None = Field(default=None, max_length=32)
    auth_shown: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON
    auth_sealed: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    authorities: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON
    timeout: int = 5
    owner: str = Field(max_length=11)
    public_access: str = Field(default="--------", max_length=8)
    created: str = Field(max_length=32)
    last_updated: str = Field(max_length=32)
