"""Access rights: a client subsystem may call a provider's service (optionally some endpoints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base
from services.interop_layer.catalogue.models import Endpoint
from services.kernel.time import utcnow

# Pub/sub rooms are not catalogue services: these codes grant publishing and subscribing.
ROOM_CODES = frozenset({"pub", "sub"})


class AccessRightBase(CamelModel):
    client: str
    provider: str
    service_code: str
    endpoints: list[Endpoint] = PydanticField(default_factory=list)


class AccessRightCreate(AccessRightBase):
    pass


class AccessRightPublic(AccessRightBase):
    id: str
    created_at: datetime


class AccessRight(Base, table=True):
    __tablename__ = "im_access_right"
    __table_args__ = (UniqueConstraint("client", "provider", "service_code"),)

    id: str = Field(primary_key=True, max_length=40)
    client: str = Field(index=True, max_length=200)
    provider: str = Field(max_length=200)
    service_code: str = Field(max_length=100)
    endpoints: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
