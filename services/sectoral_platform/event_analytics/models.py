"""Event counts per program stage, status, district-level area and month, kept current by
database triggers on the event table (no analytics-table job): counting a million events reads
a few thousand rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Field

from services.sectoral_platform.base import Base, table_of

ROLLUP_LEVEL = 3  # areas are district paths; deeper org units are counted into them
AREA = 12 * ROLLUP_LEVEL  # "/" + an 11-character UID per level


class EventRollup(Base, table=True):
    """How many events of a stage, with a status, occurred in an area in a month (YYYY-MM)."""

    __tablename__ = "event_rollup"

    program: str = Field(primary_key=True, max_length=11)
    stage: str = Field(primary_key=True, max_length=11)
    status: str = Field(primary_key=True, max_length=16)
    area: str = Field(primary_key=True, max_length=255)
    month: str = Field(primary_key=True, max_length=7)
    n: int = 0


R = table_of(EventRollup)
_KEY = "program, stage, status, area, month"


def _values(row: str) -> str:
    return (
        f"{row}.program, {row}.program_stage, {row}.status, substr({row}.ou_path, 1, {AREA}), "
        f"substr({row}.occurred_at, 1, 7)"
    )


def _match(row: str) -> str:
    return (
        f"program = {row}.program AND stage = {row}.program_stage AND status = {row}.status "
        f"AND area = substr({row}.ou_path, 1, {AREA}) AND month = substr({row}.occurred_at, 1, 7)"
    )


def _add(row: str) -> str:
    return (
        f"INSERT INTO event_rollup ({_KEY}, n) VALUES ({_values(row)}, 1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = event_rollup.n + 1"
    )


def _remove(row: str) -> str:
    return f"UPDATE event_rollup SET n = n - 1 WHERE {_match(row)}"


def _sqlite_triggers() -> list[str]:
    watched = "program, program_stage, status, ou_path, occurred_at"
    return [
        "CREATE TRIGGER IF NOT EXISTS event_rollup_insert AFTER INSERT ON event "
        f"WHEN NEW.occurred_at IS NOT NULL BEGIN {_add('NEW')}; END",
        "CREATE TRIGGER IF NOT EXISTS event_rollup_delete AFTER DELETE ON event "
        f"WHEN OLD.occurred_at IS NOT NULL BEGIN {_remove('OLD')}; END",
        f"CREATE TRIGGER IF NOT EXISTS event_rollup_update_old AFTER UPDATE OF {watched} ON event "
        f"WHEN OLD.occurred_at IS NOT NULL BEGIN {_remove('OLD')}; END",
        f"CREATE TRIGGER IF NOT EXISTS event_rollup_update_new AFTER UPDATE OF {watched} ON event "
        f"WHEN NEW.occurred_at IS NOT NULL BEGIN {_add('NEW')}; END",
    ]


def _delta(rows: str, sign: int) -> str:
    return (
        f"SELECT program, program_stage, status, substr(ou_path, 1, {AREA}) AS area, "
        f"substr(occurred_at, 1, 7) AS month, {sign} AS d FROM {rows} "
        "WHERE occurred_at IS NOT NULL"
    )


def _apply(parts: list[str]) -> str:
    """One upsert per total a statement changed, with the statement's net change: a row-level
    upsert per event would walk, in every later upsert of the same total in the transaction, the
    versions the earlier ones left (quadratic in the events sharing a total)."""
    return (
        f"INSERT INTO event_rollup ({_KEY}, n) SELECT program, program_stage, status, area, month, "
        f"sum(d) FROM ({' UNION ALL '.join(parts)}) AS delta "
        "GROUP BY program, program_stage, status, area, month HAVING sum(d) <> 0 "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = event_rollup.n + excluded.n"
    )


# transition tables allow one event per trigger, and no column list
POSTGRES_TRIGGERS = {
    "event_rollup_insert": ("INSERT", "NEW TABLE AS new_rows"),
    "event_rollup_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    "event_rollup_delete": ("DELETE", "OLD TABLE AS old_rows"),
}


def _postgres_triggers() -> list[str]:
    body = (
        "BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_apply([_delta('new_rows', 1)])}; "
        f"ELSIF TG_OP = 'DELETE' THEN {_apply([_delta('old_rows', -1)])}; "
        f"ELSE {_apply([_delta('old_rows', -1), _delta('new_rows', 1)])}; END IF; "
        "RETURN NULL; END"
    )
    statements = [
        "CREATE OR REPLACE FUNCTION event_rollup_count() RETURNS trigger AS $$ "
        f"{body} $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS event_rollup_trigger ON event",  # the row-level one, before
    ]
    for name, (operation, tables) in POSTGRES_TRIGGERS.items():
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON event",
            f"CREATE TRIGGER {name} AFTER {operation} ON event REFERENCING {tables} "
            "FOR EACH STATEMENT EXECUTE FUNCTION event_rollup_count()",
        ]
    return statements


def install(conn: Connection) -> None:
    """The triggers, and the counts of the events already stored."""
    _install_triggers(conn)
    conn.execute(R.delete())
    conn.execute(
        text(
            f"INSERT INTO event_rollup ({_KEY}, n) SELECT {_values('event')}, count(*) "
            "FROM event WHERE occurred_at IS NOT NULL "
            f"GROUP BY {_values('event')}"
        )
    )


def _install_triggers(conn: Connection) -> None:
    statements = _sqlite_triggers() if conn.dialect.name == "sqlite" else _postgres_triggers()
    for statement in statements:
        conn.execute(text(statement))


def _upgrade(conn: Connection) -> None:
    """A database made with the row-level trigger gets the statement-level ones (its counts,
    kept by the old trigger, stay)."""
    old = "SELECT 1 FROM pg_trigger WHERE tgname = 'event_rollup_trigger' AND NOT tgisinternal"
    if conn.dialect.name == "postgresql" and conn.execute(text(old)).first() is not None:
        _install_triggers(conn)


def _created(target: Any, connection: Connection, **kw: Any) -> None:
    if R in (kw.get("tables") or []):
        install(connection)
    elif R in target.tables.values():
        _upgrade(connection)


sa_event.listen(Base.metadata, "after_create", _created)
