"""The declarative base of this service's tables: its own metadata, its own database."""

from typing import cast

from sqlalchemy import Table, inspect
from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """Every table of this service derives from this base."""


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Core table; SQLModel sets `__table__` at runtime, invisible to mypy."""
    return cast(Table, inspect(model).local_table)
