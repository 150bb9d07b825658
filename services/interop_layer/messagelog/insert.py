"""The records' INSERT, compiled once for the dialect (the writer's hot loop)."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table

from services.interop_layer.messagelog.models import LogRecord

_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]


class RecordInsert:
    """The records' INSERT compiled once for the dialect; values converted by the column types'
    own bind processors. Core's generic per-row parameter handling cost more than hashing."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = _RECORDS.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(dialect.positional)
        self.names = list(compiled.positiontup or ()) if self.positional else list(compiled.params)
        self.values = itemgetter(*self.names)
        self.converted: list[tuple[int, Callable[[Any], Any], Any]] = []
        for column in _RECORDS.columns:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:  # (position, processor, what it makes of None)
                self.converted.append((self.names.index(column.name), processor, processor(None)))

    def execute(self, connection: Connection, batch: list[dict[str, Any]]) -> None:
        values, converted = self.values, self.converted
        rows: list[Any] = []
        for fields in batch:
            row = list(values(fields))
            for position, processor, of_none in converted:
                value = row[position]
                row[position] = of_none if value is None else processor(value)
            rows.append(tuple(row) if self.positional else dict(zip(self.names, row, strict=True)))
        connection.exec_driver_sql(self.sql, rows)
