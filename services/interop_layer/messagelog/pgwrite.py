"""The writer's batches on PostgreSQL, awaited on the event loop over one kept connection.

A batch is one statement in autocommit mode, so atomic: its records and the head mark (an
upsert), both from JSON, and, when another batch is coming, the record numbers for it (`nextval`,
which no other replica takes). The numbers have to be known before a batch is linked (each
record's hash covers its number), so a batch that finds too few or stale numbers first reserves
its own. Written from a worker thread, every round trip ended with the thread waiting for the GIL
that the busy event loop held; in a pipeline of one statement per record, psycopg's own work cost
three times the single statement's. Imported on PostgreSQL only (SQLite never loads psycopg).

Numbers are reserved ahead only while another batch is coming (records waiting, exchanges under
way) or batches of several records follow each other within `FRESH` seconds (a stream of
concurrent exchanges, where the next batch's exchanges may not have started yet when this one is
written: a third of the batches under the replicas benchmark's load), so a writer at rest leaves
no gaps; they are used within `FRESH` seconds or dropped, so that a batch's numbers stay close in
order to what other replicas wrote meanwhile. Dropped ones are gaps, as numbers drawn for a
failed batch are.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import JSON, Table

from services.interop_layer.messagelog.models import RECORD_SEQUENCE, LogMark, LogRecord
from services.kernel.db import Database, libpq_url
from services.kernel.kept import KeptConnection, connector

FRESH = 0.1  # seconds: numbers reserved ahead are used by then or dropped
_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]
_MARKS: Table = LogMark.__table__  # type: ignore[attr-defined]
_NEXT = f"SELECT nextval('{RECORD_SEQUENCE.name}') FROM generate_series(1, %s) ORDER BY 1"


def _value(column: Any) -> str:
    # None in a JSON column is JSON's null, as SQLAlchemy stores it (not SQL's NULL)
    if isinstance(column.type, JSON):
        return f"COALESCE({column.name}, 'null'::json)"
    return str(column.name)


def _write_statement() -> str:
    records = ", ".join(column.name for column in _RECORDS.columns)
    values = ", ".join(_value(column) for column in _RECORDS.columns)
    marks = ", ".join(column.name for column in _MARKS.columns)
    moved = ", ".join(f"{c.name} = excluded.{c.name}" for c in _MARKS.columns if c.name != "name")
    return (
        f"WITH records AS (INSERT INTO {_RECORDS.name} ({records}) SELECT {values}"
        f" FROM jsonb_populate_recordset(NULL::{_RECORDS.name}, %s::jsonb)),"
        f" head AS (INSERT INTO {_MARKS.name} ({marks}) SELECT {marks}"
        f" FROM jsonb_populate_record(NULL::{_MARKS.name}, %s::jsonb)"
        f" ON CONFLICT (name) DO UPDATE SET {moved})"
        f" {_NEXT}"
    )


_WRITE = _write_statement()


def _json(value: Any) -> str:
    # a record's extra keys (such as the exchange's wait marker) match no column: ignored
    return orjson.dumps(value).decode()


class PgBatches:
    """Numbers for a batch, then its write; a failure drops the kept connection."""

    def __init__(self, database: Database) -> None:
        self.kept = KeptConnection(connector(libpq_url(database.url), name="message-log-writer"))
        self._ahead: list[int] = []  # numbers the last write reserved for the next batch
        self._reserved_at = 0.0
        self._written_at = -FRESH  # when the last batch was written

    async def reserve(self, count: int) -> list[int]:
        """`count` record numbers, increasing, all above those of earlier batches."""
        if time.monotonic() - self._reserved_at >= FRESH:
            self._ahead = []
        taken, self._ahead = self._ahead[:count], self._ahead[count:]
        if len(taken) == count:
            return taken
        try:
            connection = await self.kept.get()
            cursor = await connection.execute(_NEXT, (count - len(taken),))
            return taken + [seq for (seq,) in await cursor.fetchall()]
        except BaseException:
            await self.kept.drop()
            raise

    async def write(
        self, batch: list[dict[str, Any]], head: dict[str, Any], *, coming: int
    ) -> None:
        """Insert the batch and move the head mark in one statement, committed on return; have
        numbers ready for a next batch if one is `coming` (records due) or batches stream."""
        now = time.monotonic()
        streaming = len(batch) > 1 and now - self._written_at < FRESH
        self._written_at = now
        next = len(batch) + coming if coming or streaming else 0
        wanted = max(0, next - len(self._ahead))
        try:
            connection = await self.kept.get()
            cursor = await connection.execute(_WRITE, (_json(batch), _json(head), wanted))
            ahead = [seq for (seq,) in await cursor.fetchall()]
        except BaseException:
            await self.kept.drop()
            raise
        if ahead:
            self._ahead += ahead
            self._reserved_at = time.monotonic()

    async def close(self) -> None:
        self._ahead = []
        await self.kept.drop()
