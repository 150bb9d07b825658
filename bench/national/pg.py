"""PostgreSQL for the national-volume benchmark: a database per part, created and dropped here,
and COPY of the rows a service's own import would write."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

ADMIN_URL = os.environ.get(
    "DPI_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)


def reachable() -> str | None:
    """None when PostgreSQL answers at ADMIN_URL, else why not."""
    try:
        _admin().close()
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


@contextmanager
def database(label: str) -> Iterator[tuple[str, str]]:
    """A fresh database: (its SQLAlchemy URL, its libpq URL); dropped afterwards."""
    name = f"dpi_bench_{label}_{secrets.token_hex(4)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield (
            f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}",
            f"{base}/{name}",
        )
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_rows(url: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY `rows` into `table` in one transaction; the count copied."""
    count = 0
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        conn.commit()
    return count


def execute(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement (committed) and return its rows, if any."""
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []
