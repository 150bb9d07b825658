"""The records as the verifier reads them: plain dicts in log order, JSON columns as text.

On PostgreSQL straight from psycopg with a server-side cursor: SQLAlchemy's per-row processing
of ~30 columns cost as much as the hash. A log the mediator has not migrated yet is read as it
is (the verifier changes nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Text, cast, null, select

from services.interop_layer.messagelog.walk import JSON_COLUMNS, RECORDS, Row

if TYPE_CHECKING:  # the driver is imported where used: a mediator on SQLite never loads it
    from psycopg import sql

ITERSIZE = 20_000
_PLAIN = tuple(c.name for c in RECORDS.columns if c.name not in ("replica", "position"))


def sa_rows(connection: Connection, *, chains: bool) -> Iterator[Row]:
    """Every record through SQLAlchemy (SQLite)."""
    table = RECORDS
    columns: list[Any] = [
        cast(table.c[name], Text).label(name) if name in JSON_COLUMNS else table.c[name]
        for name in _PLAIN
    ]
    if chains:
        columns += [table.c.replica, table.c.position]
    else:
        columns += [null().label("replica"), null().label("position")]
    result = connection.execute(select(*columns).order_by(table.c.seq)).yield_per(2000)
    for row in result:
        yield dict(row._mapping)


def _pg_select(*, chains: bool) -> sql.Composed:
    from psycopg import sql

    columns: list[sql.Composable] = [
        sql.SQL("{}::text AS {}").format(sql.Identifier(name), sql.Identifier(name))
        if name in JSON_COLUMNS
        else sql.Identifier(name)
        for name in _PLAIN
    ]
    if chains:
        columns += [sql.Identifier("replica"), sql.Identifier("position")]
    else:
        columns += [sql.SQL("NULL AS replica"), sql.SQL("NULL::bigint AS position")]
    return sql.SQL("SELECT {} FROM {} WHERE seq >= %s AND seq <= %s ORDER BY seq").format(
        sql.SQL(", ").join(columns), sql.Identifier(RECORDS.name)
    )


def pg_rows(connection: Any, *, chains: bool, low: int, high: int) -> Iterator[Row]:
    """The records numbered `low`..`high` through a psycopg server-side cursor, in the
    connection's transaction (its snapshot)."""
    from psycopg.rows import dict_row

    with connection.cursor(name="dpi_log_walk", row_factory=dict_row) as cursor:
        cursor.itersize = ITERSIZE
        cursor.execute(_pg_select(chains=chains), (low, high))
        yield from cursor


def pg_bounds(connection: Any) -> tuple[int, int] | None:
    """The lowest and highest record numbers (None: no records)."""
    from psycopg import sql

    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT min(seq), max(seq) FROM {}").format(sql.Identifier(RECORDS.name))
        )
        low, high = cursor.fetchone() or (None, None)
    return None if low is None or high is None else (int(low), int(high))
