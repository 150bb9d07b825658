"""A Core statement compiled once for a dialect and run on the DB-API connection.

SQLAlchemy's per-execution bookkeeping (compiled cache lookup, execution context, result proxy)
costs several times a SQLite statement itself on the IDA hot path, so statements are compiled
once and their parameters built here with the column types' own bind and result processing,
except for UTC datetimes on SQLite, whose text format is produced directly (the same text,
a fraction of the cost: the transaction's time is bound two or three times per request).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine
from sqlmodel.sql.sqltypes import UTCDateTime

from services.kernel.time import sqlite_datetime

# A DB-API connection with the `execute` shortcut (sqlite3's and psycopg's both have it).
DbApi = Any
Processor = Callable[[Any], Any] | None


def sqlite_utc_bind(value: datetime) -> str:
    """`UTCDateTime` bound on SQLite: UTC, as `YYYY-MM-DD HH:MM:SS.ffffff`."""
    if value.utcoffset() is None:
        raise ValueError("Datetime values must have timezone information")
    return sqlite_datetime(value)


def _bind(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return sqlite_utc_bind
    return type_._cached_bind_processor(dialect)


class Statement:
    """A Core statement compiled for one dialect, with its bind and result processors."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        self.positional = bool(compiled.positiontup)
        names = list(compiled.positiontup or compiled.binds)
        # Literal values of the statement (e.g. the `+ 1` of an update); the rest are NULL.
        defaults = compiled.construct_params(_check=False)
        self._names = names
        self._keyed = [(name, defaults.get(name)) for name in names]
        self._processed = [
            (index, process)
            for index, name in enumerate(names)
            if (process := _bind(compiled.binds[name].type, dialect)) is not None
        ]
        columns: Any = getattr(statement, "selected_columns", None)
        if columns is None:
            columns = getattr(statement, "exported_columns", ())  # RETURNING
        self.results: list[Processor] = [
            column.type._cached_result_processor(dialect, None) for column in columns
        ]

    def params(self, params: dict[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters: positional or named, as the dialect binds them."""
        get = params.get
        values = [get(name, default) for name, default in self._keyed]
        for index, process in self._processed:
            value = values[index]
            if value is not None:
                values[index] = process(value)
        return values if self.positional else dict(zip(self._names, values, strict=True))

    def run(self, db: DbApi, params: dict[str, Any]) -> Any:
        """Execute and return the DB-API cursor."""
        return db.execute(self.sql, self.params(params))

    def first(self, db: DbApi, params: dict[str, Any]) -> list[Any] | None:
        row: Sequence[Any] | None = self.run(db, params).fetchone()
        return None if row is None else self.row(row)

    def all(self, db: DbApi, params: dict[str, Any]) -> list[list[Any]]:
        return [self.row(row) for row in self.run(db, params).fetchall()]

    def row(self, row: Sequence[Any]) -> list[Any]:
        """A row the driver read, through the columns' result processors."""
        return [
            process(value) if process else value
            for process, value in zip(self.results, row, strict=True)
        ]
