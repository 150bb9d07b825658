"""New tracker rows in bulk: one COPY on PostgreSQL, the DBAPI's executemany on SQLite.

The event totals' trigger runs once per statement on PostgreSQL (`event_analytics/models.py`):
an executemany there is one statement per row (psycopg), so the totals a request shares would be
upserted once per event, each upsert walking the versions the earlier ones left (quadratic in the
events of one request). One COPY is one statement, and cheaper than the executemany too."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Connection


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    dumps = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    # as SQLAlchemy's JSON type binds them: None too becomes the JSON `null`
    encoded = {c for c in columns if isinstance(table.c[c].type, JSON)}
    cursor: Any = conn.connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([dumps(row[c]) if c in encoded else row[c] for c in columns])
    finally:
        cursor.close()
