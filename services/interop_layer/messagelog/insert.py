"""The writer's statements, compiled once for the dialect (the writer's hot loop)."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Table
from sqlalchemy.sql.dml import UpdateBase

from services.interop_layer.messagelog.models import LogRecord

_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]


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
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
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
