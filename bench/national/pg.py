"""PostgreSQL for the national-volume benchmark: a database per part, created and dropped here,
and COPY of the rows a service's own import would write."""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from bench.common import cpu_seconds

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


def copy_rows(
    url: str,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    chunk: int = 10_000,
) -> int:
    """COPY `rows` into `table`, committing every `chunk` rows (as the imports commit batches)."""
    count = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    source = iter(rows)
    with psycopg.connect(url) as conn:
        while True:
            batch = list(itertools.islice(source, chunk))
            if not batch:
                return count
            with conn.cursor() as cursor, cursor.copy(sql) as copy:
                for values in batch:
                    copy.write_row(values)
            conn.commit()
            count += len(batch)


def execute(url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement (committed) and return its rows, if any."""
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each client backend on the bench's database (the service's pooled
    connections live through a measured step, so the difference of two readings is its share;
    the same machine's /proc)."""
    pids = execute(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    out = {}
    for (pid,) in pids:
        try:
            out[int(pid)] = cpu_seconds(int(pid))
        except OSError:  # ended between the query and the read
            continue
    return out


def backend_cpu_since(url: str, before: dict[int, float]) -> float:
    """The CPU seconds the database's backends spent since the `backend_cpu` reading `before`."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backend_cpu(url).items())
