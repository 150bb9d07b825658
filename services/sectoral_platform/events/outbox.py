"""Tracker changes become `immunisation-recorded` outbox rows; the kernel's `Outbox` sends them."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from services.kernel.mediator import MediatorClient, MediatorSession
from services.kernel.outbox import Outbox, OutboxTable
from services.sectoral_platform.common.web import timestamp
from services.sectoral_platform.events.models import OutboxEvent

OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
IMMUNISATION_RECORDED = "immunisation-recorded"
# data elements recording a vaccine dose, and the vaccine's name
VACCINES = {"bx6fsa0t90x": "BCG", "GQY2lXrypjO": "Measles"}


def enqueue_immunisations(conn: Connection, events: list[dict[str, Any]]) -> None:
    """Called inside the import's transaction: the outbox commits with the events, or neither.
    Payloads carry no person identifier: subscribers learn that a dose was given, where and when."""
    rows = []
    now = timestamp()
    for event in events:
        vaccines = [
            VACCINES[v["dataElement"]]
            for v in event["data_values"]
            if v["dataElement"] in VACCINES and v.get("value") == "true"
        ]
        if vaccines and event["status"] in ("ACTIVE", "COMPLETED"):
            payload = {"event": event["uid"], "program": event["program"],
                       "programStage": event["program_stage"], "orgUnit": event["org_unit"],
                       "occurredAt": event["occurred_at"], "vaccines": vaccines,
                       "recordedAt": now}  # fmt: skip
            rows.append({"event_type": IMMUNISATION_RECORDED, "payload": payload, "created": now})
    if rows:
        conn.execute(insert(OUTBOX), rows)


def pending_rows(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    """Unpublished events, oldest first."""
    query = select(OUTBOX).where(OUTBOX.c.published_id.is_(None)).order_by(OUTBOX.c.id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]


def platform_outbox(
    engine: Engine, mediator: MediatorClient, interval: float
) -> Outbox[dict[str, Any]]:
    """Publishes outbox events in order to the platform's own room on the mediator."""

    def mark(row: dict[str, Any], **values: Any) -> None:
        with engine.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row["id"]).values(**values))

    async def deliver(session: MediatorSession, row: dict[str, Any]) -> httpx.Response:
        return await session.publish(row["event_type"], row["payload"])

    table: OutboxTable[dict[str, Any]] = OutboxTable(
        pending=lambda limit: pending_rows(engine, limit),
        delivered=lambda row, remote_id: mark(
            row, published_id=str(remote_id), published=timestamp(), last_error=None
        ),
        failed=lambda row, error: mark(row, attempts=row["attempts"] + 1, last_error=error),
    )
    return Outbox(
        name="sectoral_platform-outbox",
        table=table,
        deliver=deliver,
        mediator=mediator,
        interval=interval,
        max_backoff=max(interval, 30.0),
        batch=50,
    )
