"""Bring a message log written by an older version up to date, rewriting no record.

A log from before chains were per replica: its records keep their hashes (no replica: the older
canonical form) and form the start of the `main` chain, whose marks keep their names (`head`,
`anchor`); the columns a chain needs are added, and on PostgreSQL the record sequence is moved
past the records already there. A log with the secondary indexes no query needs any more (by
client, service, start time: every insert kept them up) loses them.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from services.interop_layer.messagelog.models import RECORD_SEQUENCE
from services.kernel.db import Database

RECORDS = "im_log_record"
MARKS = "im_log_mark"
DROPPED_INDEXES = (f"ix_{RECORDS}_client", f"ix_{RECORDS}_service", f"ix_{RECORDS}_started_at")


def has_chains(connection: Connection) -> bool:
    """Whether the log's records have the chain columns (false: written by an older version)."""
    return "replica" in {column["name"] for column in inspect(connection).get_columns(RECORDS)}


def stale_indexes(connection: Connection) -> list[str]:
    """The log's indexes that newer versions dropped (and it still has)."""
    present = {index["name"] for index in inspect(connection).get_indexes(RECORDS)}
    return [name for name in DROPPED_INDEXES if name in present]


def _current(connection: Connection) -> bool:
    return has_chains(connection) and not stale_indexes(connection)


def migrate(database: Database) -> bool:
    """Add the chain columns to an older log, drop its stale indexes; whether anything changed."""
    with database.engine.connect() as connection:
        if _current(connection):
            return False
    with database.engine.begin() as connection:
        if not database.is_sqlite:  # a replica starting alongside waits, then finds it done
            connection.execute(text(f"LOCK TABLE {RECORDS} IN ACCESS EXCLUSIVE MODE"))
            if _current(connection):
                return False
        if not has_chains(connection):
            _add_chains(connection, postgres=not database.is_sqlite)
        for name in stale_indexes(connection):
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
    return True


def _add_chains(connection: Connection, *, postgres: bool) -> None:
    connection.execute(text(f"ALTER TABLE {RECORDS} ADD COLUMN replica VARCHAR(100)"))
    connection.execute(text(f"ALTER TABLE {RECORDS} ADD COLUMN position BIGINT"))
    if postgres:
        connection.execute(text(f"ALTER TABLE {MARKS} ALTER COLUMN name TYPE VARCHAR(120)"))
        connection.execute(
            text(
                f"SELECT setval('{RECORD_SEQUENCE.name}', max(seq)) FROM {RECORDS} "
                "HAVING count(*) > 0"
            )
        )
