"""The declarative base of this service's tables: its own metadata, its own database."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""
