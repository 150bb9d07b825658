"""Services a provider subsystem offers: where they live and what they return."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.interop_layer.api_model import CamelModel
from services.interop_layer.base import Base

RESERVED_CODES = frozenset({"listMethods", "allowedMethods", "getOpenAPI", "api", "pub", "pull"})


class Endpoint(CamelModel):
    method: str = "*"
    path: str = "/*"


class ServiceEntryBase(CamelModel):
    provider: str
    service_code: str = PydanticField(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
    title: str = ""
    service_type: Literal["REST", "OPENAPI"] = "REST"
    upstream: str | None = None
    base_url: str | None = None
    path_prefix: str = ""
    openapi_path: str | None = None
    endpoints: list[Endpoint] = PydanticField(default_factory=lambda: [Endpoint()])
    consent_required: bool = False
    data_categories: list[str] = PydanticField(default_factory=list)
    timeout: float | None = PydanticField(default=None, gt=0)


class ServiceEntryCreate(ServiceEntryBase):
    pass


class ServiceEntryPublic(ServiceEntryBase):
    id: str
    resolved_url: str | None = None


class ServiceEntry(Base, table=True):
    __tablename__ = "im_service"

    id: str = Field(primary_key=True, max_length=300)
    provider: str = Field(index=True, max_length=200)
    service_code: str = Field(max_length=100)
    title: str = Field(default="", max_length=200)
    service_type: str = Field(default="REST", max_length=20)
    upstream: str | None = Field(default=None, max_length=100)
    base_url: str | None = Field(default=None, max_length=500)
    path_prefix: str = Field(default="", max_length=200)
    openapi_path: str | None = Field(default=None, max_length=300)
    endpoints: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    consent_required: bool = False
    data_categories: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    timeout: float | None = None
