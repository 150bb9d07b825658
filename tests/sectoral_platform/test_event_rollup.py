"""The event totals kept by the database's triggers (`event_analytics/models.py`), against a
recount of the event table, on SQLite and PostgreSQL; and the bulk writes that feed them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from services.sectoral_platform.base import Base
from services.sectoral_platform.event_analytics import models as rollup_models
from services.sectoral_platform.settings import SectoralSettings
from services.sectoral_platform.tracker.models import Event
from tests.conftest import USE_POSTGRES, DatabaseUrlFactory
from tests.sectoral_platform.tracker_helpers import (
    BCG_DOSE,
    BIRTH,
    PROGRAM,
    WEIGHT,
    child,
    sync_import,
    uid,
)
from tests.sectoral_platform.tracker_helpers import IMMUNISATION as STAGE_B

STAGE_A = BIRTH
DISTRICT_1 = "/RootUnit001/RegionUnit1/District001"
DISTRICT_2 = "/RootUnit001/RegionUnit1/District002"
RECOUNT = (
    "SELECT program, program_stage, status, substr(ou_path, 1, 36), substr(occurred_at, 1, 7), "
    "count(*) FROM event WHERE occurred_at IS NOT NULL "
    "GROUP BY program, program_stage, status, substr(ou_path, 1, 36), substr(occurred_at, 1, 7)"
)


@pytest.fixture
def engine(database_url: DatabaseUrlFactory) -> Iterator[Engine]:
    assert "event" in Base.metadata.tables and Event is not None
    made = create_engine(database_url("sectoral_platform"))
    Base.metadata.create_all(made)
    yield made
    made.dispose()


def event(n: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "uid": f"ev{n:09d}", "program": PROGRAM, "program_stage": STAGE_A,
        "org_unit": "Facility001", "ou_path": f"{DISTRICT_1}/Facility001", "status": "ACTIVE",
        "occurred_at": "2024-01-15",
        "notes": "[]", "data_values": "[]", "created": "2024-01-15", "updated": "2024-01-15",
    }  # fmt: skip
    return {**row, **overrides}


def insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    values = ", ".join("(" + ", ".join(f":{c}{i}" for c in columns) + ")" for i in range(len(rows)))
    params = {f"{c}{i}": row[c] for i, row in enumerate(rows) for c in columns}
    # one statement of many rows, as a COPY or a bulk insert writes them
    conn.execute(text(f"INSERT INTO event ({', '.join(columns)}) VALUES {values}"), params)


def totals(conn: Connection) -> dict[tuple[str, ...], int]:
    rows = conn.execute(
        text("SELECT program, stage, status, area, month, n FROM event_rollup WHERE n <> 0")
    )
    return {tuple(r[:5]): r[5] for r in rows}


def recount(conn: Connection) -> dict[tuple[str, ...], int]:
    return {tuple(r[:5]): r[5] for r in conn.execute(text(RECOUNT))}


def test_totals_follow_inserts_updates_and_deletes(engine: Engine) -> None:
    with engine.begin() as conn:
        insert(conn, [event(i) for i in range(30)])
        insert(
            conn, [event(i, program_stage=STAGE_B, occurred_at="2024-02-03") for i in range(30, 40)]
        )
        insert(conn, [event(40, occurred_at=None)])  # not counted: no date
        assert totals(conn) == recount(conn)
        assert totals(conn)[(PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-01")] == 30
    with engine.begin() as conn:
        conn.execute(text("UPDATE event SET status = 'COMPLETED' WHERE uid < 'ev000000010'"))
        conn.execute(text("UPDATE event SET occurred_at = '2024-03-01' WHERE uid = 'ev000000010'"))
        conn.execute(
            text("UPDATE event SET ou_path = :p WHERE uid IN ('ev000000011', 'ev000000030')"),
            {"p": f"{DISTRICT_2}/Facility009"},
        )
        conn.execute(text("UPDATE event SET occurred_at = '2024-04-09' WHERE uid = 'ev000000040'"))
        conn.execute(text("UPDATE event SET occurred_at = NULL WHERE uid = 'ev000000012'"))
        conn.execute(text("UPDATE event SET updated = '2024-05-01'"))  # no total changes
        assert totals(conn) == recount(conn)
    with engine.begin() as conn:
        assert totals(conn) == {
            (PROGRAM, STAGE_A, "COMPLETED", DISTRICT_1, "2024-01"): 10,
            (PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-01"): 17,
            (PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-03"): 1,
            (PROGRAM, STAGE_A, "ACTIVE", DISTRICT_2, "2024-01"): 1,
            (PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-04"): 1,
            (PROGRAM, STAGE_B, "ACTIVE", DISTRICT_1, "2024-02"): 9,
            (PROGRAM, STAGE_B, "ACTIVE", DISTRICT_2, "2024-02"): 1,
        }
        conn.execute(text("DELETE FROM event WHERE uid >= 'ev000000005' AND uid < 'ev000000032'"))
        conn.execute(text("DELETE FROM event WHERE uid = 'ev000000040'"))
        assert totals(conn) == recount(conn)
        assert sum(totals(conn).values()) == 13
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM event"))
        assert totals(conn) == {}


def test_rollback_leaves_the_totals(engine: Engine) -> None:
    with engine.begin() as conn:
        insert(conn, [event(i) for i in range(5)])
    with pytest.raises(RuntimeError), engine.begin() as conn:
        insert(conn, [event(i) for i in range(5, 50)])
        raise RuntimeError("abandoned")
    with engine.connect() as conn:
        assert totals(conn) == {(PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-01"): 5}


@pytest.mark.skipif(not USE_POSTGRES, reason="PostgreSQL's row versions: DPI_TEST_DB=postgres")
def test_a_large_insert_writes_each_total_once(engine: Engine) -> None:
    """Regression (issue 18): the row-level trigger upserted a total once per event, each
    upsert walking the versions the transaction's earlier ones had left: one COPY of 180,000
    events into 4 totals did not finish in 6 minutes. Now a statement writes each total it
    changes once, whatever its number of events."""
    written = (
        "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'event_rollup'"
    )
    with engine.begin() as conn:
        for start in (0, 2000):
            statuses = ("ACTIVE", "COMPLETED")
            insert(conn, [event(i, status=statuses[i % 2]) for i in range(start, start + 2000)])
        # two statements, two totals each: 2 inserted, then 2 updated
        assert conn.execute(text(written)).scalar_one() == 4
        conn.execute(text("UPDATE event SET status = 'ACTIVE' WHERE status = 'COMPLETED'"))
        assert conn.execute(text(written)).scalar_one() == 6
        conn.execute(text("DELETE FROM event WHERE uid < 'ev000001000'"))
        assert conn.execute(text(written)).scalar_one() == 7
        assert totals(conn) == {(PROGRAM, STAGE_A, "ACTIVE", DISTRICT_1, "2024-01"): 3000}


@pytest.mark.skipif(not USE_POSTGRES, reason="PostgreSQL's triggers: DPI_TEST_DB=postgres")
def test_a_database_with_the_row_trigger_is_upgraded(engine: Engine) -> None:
    with engine.begin() as conn:
        for name in rollup_models.POSTGRES_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER {name} ON event"))
        conn.execute(text(
            "CREATE TRIGGER event_rollup_trigger AFTER INSERT ON event "
            "FOR EACH ROW EXECUTE FUNCTION event_rollup_count()"
        ))  # fmt: skip
    Base.metadata.create_all(engine)  # a later start
    with engine.begin() as conn:
        triggers = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
        assert list(conn.execute(text(triggers)).scalars()) == sorted(
            rollup_models.POSTGRES_TRIGGERS
        )
        insert(conn, [event(i) for i in range(3)])
        assert totals(conn) == recount(conn)


@pytest.mark.anyio
@pytest.mark.skipif(not USE_POSTGRES, reason="PostgreSQL's row versions: DPI_TEST_DB=postgres")
async def test_an_import_writes_its_events_in_one_statement(
    settings: SectoralSettings, client: httpx.AsyncClient
) -> None:
    """The API's import hands its new events to PostgreSQL as one statement (a COPY; an
    executemany is one statement per event there), so the totals' trigger runs once for the
    whole request, not once per event."""
    assert settings.database_url is not None
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE insert_statements (rows integer)"))
        conn.execute(text(
            "CREATE FUNCTION count_inserts() RETURNS trigger AS $$ BEGIN "
            "INSERT INTO insert_statements SELECT count(*) FROM new_rows; RETURN NULL; END "
            "$$ LANGUAGE plpgsql"
        ))  # fmt: skip
        conn.execute(text(
            "CREATE TRIGGER count_inserts AFTER INSERT ON event REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION count_inserts()"
        ))  # fmt: skip
    children = [child(first=f"Child {i}") for i in range(150)]
    report = await sync_import(client, {"trackedEntities": children})
    assert report["stats"]["created"] == 150 * 4
    with engine.connect() as conn:
        # 300 events (150 children, 2 each) in one statement
        assert list(conn.execute(text("SELECT rows FROM insert_statements")).scalars()) == [300]
        assert totals(conn) == recount(conn)
        assert sum(n for key, n in totals(conn).items() if key[1] == BIRTH) == 150
    engine.dispose()


@pytest.mark.anyio
async def test_copied_rows_keep_their_text(client: httpx.AsyncClient) -> None:
    """New enrollments and events go through COPY on PostgreSQL (`tracker/bulk.py`): a tab, a
    backslash, `\\N`, a newline, a quote and non-ASCII text come back as sent."""
    awkward = 'tab\there \\ back \\N slash\nnew "line" — Ñandú ✓'
    te = child(first="Copied")
    enrollment = te["enrollments"][0]
    event = enrollment["events"][0]
    enrollment["notes"] = [{"value": awkward}]
    event["notes"] = [{"value": awkward}]
    enrollment["enrollment"], event["event"] = uid(), uid()
    report = await sync_import(client, {"trackedEntities": [te]})
    assert report["status"] == "OK", report
    for kind, key in (("enrollments", enrollment["enrollment"]), ("events", event["event"])):
        read = (await client.get(f"/api/tracker/{kind}/{key}")).json()
        assert [n["value"] for n in read["notes"]] == [awkward]
    read = (await client.get(f"/api/tracker/events/{event['event']}")).json()
    assert {v["dataElement"] for v in read["dataValues"]} == {WEIGHT, BCG_DOSE}
