"""Totals per data element, period, option combo and district-level area, kept current in the
same transaction as every data value write, so national and regional analytics read thousands
of rows instead of millions (no analytics-table generation step)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlmodel import Field

from services.sectoral_platform.aggregate import pgarrays
from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.base import Base, table_of

ROLLUP_LEVEL = 3  # areas are district paths: org units deeper than this are summed into them
SEGMENT = 12  # "/" + an 11-character UID
Delta = dict[tuple[str, str, str, str], list[float]]


class DataValueRollup(Base, table=True):
    """Sum and count of numeric values (any attribute option combo) under one area."""

    __tablename__ = "data_value_rollup"

    de: str = Field(primary_key=True, max_length=11)
    pe: str = Field(primary_key=True, max_length=16)
    co: str = Field(primary_key=True, max_length=11)
    area: str = Field(primary_key=True, max_length=255)
    total: float = 0.0
    n: int = 0


R = table_of(DataValueRollup)
T = table_of(DataValue)


def area_of(path: str) -> str:
    return path[: SEGMENT * ROLLUP_LEVEL]


def new_delta() -> Delta:
    return {}


def add(delta: Delta, key: tuple[str, str, str, str], num: float | None, sign: int) -> None:
    if num is None:
        return
    area_key = (key[0], key[1], key[2], key[3][: SEGMENT * ROLLUP_LEVEL])
    entry = delta.get(area_key)
    if entry is None:
        delta[area_key] = [sign * num, float(sign)]
    else:
        entry[0] += sign * num
        entry[1] += sign


def apply(conn: Connection, delta: Delta) -> None:
    """Add the deltas with one statement: on PostgreSQL the rows as arrays (an `executemany` of
    the thousands of totals a batch spread over many districts touches cost a quarter of the
    import's time), in key order so that concurrent imports lock shared totals in one order."""
    rows = sorted((*key, total, int(n)) for key, (total, n) in delta.items() if n or total)
    if not rows:
        return
    postgres = conn.dialect.name == "postgresql"
    columns = [list(column) for column in zip(*rows, strict=True)] if postgres else []
    split = pgarrays.joined(columns) if postgres else None
    array = pgarrays.listed if split is None else pgarrays.split
    casts = ("text", "text", "text", "text", "float8", "int8")
    source = (
        f"SELECT * FROM unnest({', '.join(array(cast) for cast in casts)})"
        if postgres
        else f"VALUES ({', '.join(['?'] * 6)})"
    )
    sql = (
        f"INSERT INTO {R.name} (de, pe, co, area, total, n) {source} "
        f"ON CONFLICT (de, pe, co, area) DO UPDATE SET total = {R.name}.total + excluded.total, "
        f"n = {R.name}.n + excluded.n"
    )
    cursor = conn.connection.cursor()
    try:
        if postgres:
            cursor.execute(sql, columns if split is None else split)
        else:
            cursor.executemany(sql, rows)
    finally:
        cursor.close()


def rebuild(conn: Connection) -> None:
    """Recompute every total from the data values (after org units moved)."""
    conn.execute(R.delete())
    area = func.substr(T.c.ou_path, 1, SEGMENT * ROLLUP_LEVEL)
    source = (
        select(T.c.de, T.c.pe, T.c.co, area, func.sum(T.c.num), func.count(T.c.num))
        .where(T.c.num.is_not(None))
        .group_by(T.c.de, T.c.pe, T.c.co, area)
    )
    conn.execute(insert(R).from_select(["de", "pe", "co", "area", "total", "n"], source))


def totals(
    conn: Connection, *, elements: list[str], periods: list[str], detail: bool, level: int,
    targets: dict[str, str], where_area: Any,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """(de, co|None, pe, unit path, sum, count) for targets at `level` <= ROLLUP_LEVEL."""
    anc: Any = func.substr(R.c.area, 1, SEGMENT * level)
    keys = [R.c.de, *([R.c.co] if detail else []), R.c.pe]
    stmt = select(*keys, anc, func.sum(R.c.total), func.sum(R.c.n)).where(
        R.c.de.in_(elements), R.c.pe.in_(periods), *where_area(R.c.area)
    )
    stmt = stmt.group_by(*keys, anc)
    out = []
    for rec in conn.execute(stmt):
        values = tuple(rec)
        if not detail:
            values = (values[0], None, *values[1:])
        out.append(values)
    return out
