"""Installed apps and their files, kept in the service's database (not on disk, not in the repo)."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field

from services.sectoral_platform.base import Base


class InstalledApp(Base, table=True):
    __tablename__ = "installed_app"

    key: str = Field(primary_key=True, max_length=255)
    manifest: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    installed: str = Field(max_length=32)
    size: int


class AppFile(Base, table=True):
    __tablename__ = "app_file"

    app_key: str = Field(primary_key=True, max_length=255)
    path: str = Field(primary_key=True, max_length=1024)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
