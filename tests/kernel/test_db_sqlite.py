"""The kernel's SQLite engine: None is bound as NULL (through the adapter registered for it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from services.kernel.db import Database


def test_none_is_bound_as_null_without_a_failed_adapter_look_up(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert sqlite3.adapters.get((type(None), sqlite3.PrepareProtocol)) is not None
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (a TEXT, b INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (:a, :b)"), [{"a": None, "b": None}])
        connection.exec_driver_sql("INSERT INTO t VALUES (?, ?)", [(None, 1), ("x", None)])
        rows = connection.execute(text("SELECT a IS NULL, b IS NULL, typeof(a) FROM t")).all()
    assert [tuple(row) for row in rows] == [(1, 1, "null"), (1, 0, "null"), (0, 1, "text")]
    database.dispose()
