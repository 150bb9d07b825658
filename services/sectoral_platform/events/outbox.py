"""Tracker changes -> `immunisation-recorded` events in the outbox; a drainer publishes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from services.kernel.credentials import client_key
from services.kernel.http import make_client
from services.kernel.topology import service_url
from services.sectoral_platform.common.web import timestamp
from services.sectoral_platform.events.models import OutboxEvent

log = logging.getLogger("dpi.sectoral_platform.events")
OUTBOX = OutboxEvent.__table__  # type: ignore[attr-defined]
MEMBER = "DPI/GOV/MOH/hmis"
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


class Drainer:
    """Publishes outbox events in order to the platform's own room on the mediator."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _pending(self, limit: int = 50) -> list[dict[str, Any]]:
        query = select(OUTBOX).where(OUTBOX.c.published_id.is_(None)).order_by(OUTBOX.c.id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]

    def _mark(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == row_id).values(**values))

    async def drain(self) -> int:
        """Publishes what it can; stops at the first failure so nothing overtakes it."""
        sent = 0
        room = f"/r1/{MEMBER}"
        headers = {"X-Road-Client": MEMBER, "X-DPI-Client-Key": client_key(MEMBER)}
        rows = await run_in_threadpool(self._pending)
        if not rows:
            return 0
        async with make_client(service_url("interop_layer"), headers=headers) as client:
            for row in rows:
                try:
                    response = await client.post(f"{room}/pub/v1/{row['event_type']}",
                                                 json=row["payload"])  # fmt: skip
                    if response.status_code == 404:
                        declare = {"eventType": row["event_type"], "schema": {"type": "object"}}
                        await client.post(f"{room}/api/v1/eventType", json=declare)
                        response = await client.post(f"{room}/pub/v1/{row['event_type']}",
                                                     json=row["payload"])  # fmt: skip
                except httpx.HTTPError as exc:
                    error = f"mediator unreachable: {type(exc).__name__}"
                    await run_in_threadpool(self._mark, row["id"], attempts=row["attempts"] + 1,
                                            last_error=error)  # fmt: skip
                    return sent
                if response.status_code not in (200, 201):
                    error = f"mediator answered {response.status_code}: {response.text[:150]}"
                    await run_in_threadpool(self._mark, row["id"], attempts=row["attempts"] + 1,
                                            last_error=error)  # fmt: skip
                    return sent
                await run_in_threadpool(self._mark, row["id"], published_id=str(
                    response.json().get("id")), published=timestamp(), last_error=None)  # fmt: skip
                sent += 1
        return sent


@contextlib.asynccontextmanager
async def draining(drainer: Drainer, interval: float) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            try:
                await drainer.drain()
            except Exception:  # keep draining on the next round
                log.exception("outbox drain failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(loop()) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
