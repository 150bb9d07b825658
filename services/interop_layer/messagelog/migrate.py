"""Bring a message log written before chains were per replica up to date, rewriting no record.

Its records keep their hashes (no replica: the older canonical form) and form the start of the
`main` chain, whose marks keep their names (`head`, `anchor`); the columns a chain needs are
added, and on PostgreSQL the record sequence is moved past the records already there.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from services.interop_layer.messagelog.models import RECORD_SEQUENCE
from services.kernel.db import Database

RECORDS = "im_log_record"
MARKS = "im_log_mark"


def has_chains(connection: Connection) -> bool:
    """Whether the log's records have the chain columns (false: written by an older version)."""
    return "replica" in {column["name"] for column in inspect(connection).get_columns(RECORDS)}


def migrate(database: Database) -> bool:
    """Add the chain columns to an older log; whether anything was changed."""
    with database.engine.connect() as connection:
        if has_chains(connection):
            return False
    with database.engine.begin() as connection:
        if not database.is_sqlite:  # a replica starting alongside waits, then finds it done
            connection.execute(text(f"LOCK TABLE {RECORDS} IN ACCESS EXCLUSIVE MODE"))
            if has_chains(connection):
                return False
        connection.execute(text(f"ALTER TABLE {RECORDS} ADD COLUMN replica VARCHAR(100)"))
        connection.execute(text(f"ALTER TABLE {RECORDS} ADD COLUMN position BIGINT"))
        if not database.is_sqlite:
            connection.execute(text(f"ALTER TABLE {MARKS} ALTER COLUMN name TYPE VARCHAR(120)"))
            connection.execute(
                text(
                    f"SELECT setval('{RECORD_SEQUENCE.name}', max(seq)) FROM {RECORDS} "
                    "HAVING count(*) > 0"
                )
            )
    return True
