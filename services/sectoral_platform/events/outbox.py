"""Tracker changes become `immunisation-recorded` outbox rows; the kernel's `Outbox` sends them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from services.kernel.claims import StreamClaim
from services.kernel.mediator import MediatorClient
from services.kernel.outbox import Delivery, Message, Outbox, OutboxTable, Pacing
from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.base import table_of
from services.sectoral_platform.events.models import OutboxEvent

OUTBOX = table_of(OutboxEvent)
IMMUNISATION_RECORDED = "immunisation-recorded"
# data elements recording a vaccine dose, and the vaccine's name
VACCINES = {"bx6fsa0t90x": "BCG", "GQY2lXrypjO": "Measles"}


def enqueue_immunisations(conn: Connection, events: list[dict[str, Any]]) -> None:
    """Called inside the import's transaction: the outbox commits with the events, or neither.
    Payloads carry no person identifier: subscribers learn that a dose was given, where and when."""
    rows = []
    now = dhis2_timestamp()
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
    """Publishes outbox events in order to the platform's own room; polled, no back-off."""

    def record(row: dict[str, Any], outcome: Delivery) -> None:
        if outcome.error is None:
            values = {"published_id": str(outcome.remote_id), "published": dhis2_timestamp(),
                      "last_error": None}  # fmt: skip
        else:
            values = {"attempts": row["attempts"] + 1, "last_error": outcome.error}
        with engine.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row["id"]).values(**values))

    def message(row: dict[str, Any]) -> Message:
        return Message(row["event_type"], row["payload"])

    table = OutboxTable(lambda limit: pending_rows(engine, limit), message, record)
    return Outbox(
        "sectoral_platform-outbox",
        table,
        mediator,
        Pacing(interval, interval, 50),
        StreamClaim(engine, "sectoral_platform-outbox"),
    )
