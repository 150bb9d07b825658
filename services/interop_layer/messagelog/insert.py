"""The writer's statements, compiled once for the dialect (the writer's hot loop)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Table
from sqlalchemy.sql.dml import UpdateBase

from services.interop_layer.messagelog.models import LogRecord
from services.kernel.time import sqlite_datetime

_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]


_SAMPLES = (datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC), datetime(999, 1, 2, tzinfo=UTC))


def _quicker(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLite's text of a UTC datetime through `kernel.time.sqlite_datetime` when that is exactly
    what the column type's own processor makes of it (its `%` formatting of seven fields was 7 %
    of the writer's CPU); anything else (another zone, no zone, another type) through the type's
    own."""
    if processor is None:
        return None
    try:
        same = all(processor(value) == sqlite_datetime(value) for value in _SAMPLES)
    except Exception:  # a type that takes no datetime
        same = False
    if not same:
        return processor
    sqlalchemy_s = processor

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is UTC:
            return sqlite_datetime(value)
        return sqlalchemy_s(value)

    return process


class Prepared:
    """A statement on `table` compiled once for the dialect; values converted by the column
    types' own bind processors. Core's generic per-row parameter handling (and its statement
    cache look-up) cost more than hashing a record."""

    def __init__(self, engine: Engine, table: Table, statement: UpdateBase) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(dialect.positional)
        self.names = list(compiled.positiontup or ()) if self.positional else list(compiled.params)
        self.values = itemgetter(*self.names)
        self.converted: list[tuple[int, Callable[[Any], Any], Any]] = []
        for column in table.columns:
            processor = _quicker(column.type.dialect_impl(dialect).bind_processor(dialect))
            if processor is not None and column.name in self.names:
                # (position, processor, what it makes of None)
                self.converted.append((self.names.index(column.name), processor, processor(None)))

    def row(self, fields: dict[str, Any]) -> Any:
        row = list(self.values(fields))
        for position, processor, of_none in self.converted:
            value = row[position]
            row[position] = of_none if value is None else processor(value)
        return tuple(row) if self.positional else dict(zip(self.names, row, strict=True))

    def execute(self, connection: Connection, batch: list[dict[str, Any]]) -> CursorResult[Any]:
        row = self.row
        if len(batch) == 1:
            return connection.exec_driver_sql(self.sql, row(batch[0]))
        return connection.exec_driver_sql(self.sql, [row(fields) for fields in batch])


class RecordInsert(Prepared):
    """The records' INSERT."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, _RECORDS, _RECORDS.insert())
