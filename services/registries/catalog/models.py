"""A registry (GovStack "database"): a name, a version and the JSON Schema of its records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field

from services.kernel.time import utcnow
from services.registries.base import Base


class RegistryBase(Base):
    name: str = Field(index=True, max_length=100)
    version: str = Field(max_length=20)
    code: str = Field(max_length=20)
    description: str = ""
    institution: str = ""
    group_name: str = ""
    catalog_name: str = ""


class Registry(RegistryBase, table=True):
    """One registry version; its records live in `Record` rows keyed by `primary_key`."""

    __table_args__ = (UniqueConstraint("name", "version", name="uq_registry_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    json_schema: dict[str, Any] = Field(sa_column=Column("schema", JSON, nullable=False))
    primary_key: str = "id"
    person_paths: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fields_uniques: list[list[str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    event_on_create: str | None = None
    view: str | None = None
    builtin: bool = False
    index_increment: int = 0
    modified_at: datetime = Field(default_factory=utcnow)
    modified_by: str = ""


class RegistryCreate(BaseModel):
    """Body of `POST /database/modify`: upstream fields plus the sandbox's `name` and `version`."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    group_name: str = ""
    catalog_name: str = ""
    code: str = PydanticField(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")
    name: str | None = PydanticField(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    version: str = PydanticField(default="1.0", min_length=1, max_length=20, pattern=r"^[\w.-]+$")
    description: str = ""
    institution: str = ""
    fields_uniques: list[list[str]] = PydanticField(default_factory=list)
    json_schema: dict[str, Any] = PydanticField(alias="schema")
