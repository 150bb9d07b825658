"""A database made by an older version (a table without a column the models now have) is
refused at start with a message naming what is missing, never left to fail request by request."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect

from services.kernel.db import Database, SchemaOutdated


def _metadata(*extra: str) -> MetaData:
    metadata = MetaData()
    columns = [Column(name, String) for name in extra]
    Table(
        "thing", metadata, Column("id", Integer, primary_key=True), Column("name", String), *columns
    )
    Table("other", metadata, Column("id", Integer, primary_key=True))
    return metadata


def test_a_table_without_a_new_column_is_refused_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url, _metadata())
    old.create_all()
    old.dispose()
    new = Database(url, _metadata("colour", "size"))
    with pytest.raises(SchemaOutdated) as raised:
        new.create_all()
    message = str(raised.value)
    assert "thing lacks colour, size" in message
    assert "old.db" in message and "dpi reset" in message
    assert "other" not in message.split("(")[1]  # complete tables are not named
    new.dispose()


def test_the_same_schema_again_and_new_tables_are_fine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    first = Database(url, _metadata("colour"))
    first.create_all()
    first.dispose()
    grown = _metadata("colour")
    Table("added", grown, Column("id", Integer, primary_key=True))
    again = Database(url, grown)
    again.create_all()  # a table of its own is created, nothing is refused
    assert "added" in inspect(again.engine).get_table_names()
    again.dispose()
