"""Publish outbox events through the mediator's pub/sub, at least once, in order of creation.

While the mediator is down or refuses an event, events stay in the outbox and the oldest is
retried with back-off before any later one; a restart loses nothing (the outbox is a table).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import anyio.to_thread
import httpx
from sqlmodel import col, select

from services.kernel.credentials import CLIENT_KEY_HEADER, client_key
from services.kernel.db import Database
from services.kernel.http import make_client
from services.registries.clock import utcnow
from services.registries.events.models import OutboxEvent

log = logging.getLogger("dpi.registries.outbox")

EVENT_SCHEMA: dict[str, Any] = {"type": "object", "required": ["civilRegistrationId"]}


class Drainer:
    """A background task; `poke()` (from any thread) makes it drain now instead of waiting."""

    def __init__(
        self,
        *,
        database: Database,
        member_id: str,
        mediator_url: str,
        secret: str,
        interval: float,
        max_backoff: float,
        batch: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.database = database
        self.member_id = member_id
        self.interval = interval
        self.max_backoff = max_backoff
        self.batch = batch
        self.headers = {
            "X-Road-Client": member_id,
            CLIENT_KEY_HEADER: client_key(member_id, secret),
        }
        self.client = make_client(mediator_url, transport=transport, headers=self.headers)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def poke(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        while True:
            try:
                await self.drain_once()
            except Exception:  # the loop must survive anything; the outbox keeps the events
                log.exception("outbox drain failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()

    async def close(self) -> None:
        await self.client.aclose()

    def _due(self) -> list[OutboxEvent]:
        """The oldest pending events, unless the oldest is still backing off (order is kept)."""
        with self.database.session() as session:
            stmt = (
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.created_at), col(OutboxEvent.id))
                .limit(self.batch)
            )
            events = list(session.exec(stmt).all())
        if events and events[0].next_attempt_at > utcnow():
            return []
        return events

    def _mark(self, event_id: str, *, published_id: str | None, error: str | None) -> None:
        with self.database.session() as session:
            event = session.get(OutboxEvent, event_id)
            if event is None or event.published_at is not None:
                return
            if error is None:
                event.published_at = utcnow()
                event.mediator_event_id = published_id
                event.last_error = None
            else:
                event.attempts += 1
                delay = min(self.interval * 2 ** min(event.attempts, 16), self.max_backoff)
                event.next_attempt_at = utcnow() + timedelta(seconds=delay)
                event.last_error = error[:500]
            session.add(event)
            session.commit()

    async def drain_once(self) -> int:
        """Publish what is due; returns how many events the mediator accepted."""
        published = 0
        for event in await anyio.to_thread.run_sync(self._due):
            try:
                event_id, error = await self._publish(event)
            except httpx.HTTPError as exc:
                event_id, error = None, f"mediator unreachable: {exc!r}"
            await self._record(event.id, event_id, error)
            if error is not None:
                break  # consumers rely on order (a death after its birth): retry this one first
            published += 1
        return published

    async def _record(self, event_id: str, published_id: str | None, error: str | None) -> None:
        def mark() -> None:
            self._mark(event_id, published_id=published_id, error=error)

        await anyio.to_thread.run_sync(mark)

    async def _publish(self, event: OutboxEvent) -> tuple[str | None, str | None]:
        path = f"/r1/{self.member_id}/pub/v1/{event.event_type}"
        response = await self.client.post(path, json=event.payload)
        if response.status_code == 404:
            await self.client.post(
                f"/r1/{self.member_id}/api/v1/eventType",
                json={"eventType": event.event_type, "schema": EVENT_SCHEMA},
            )
            response = await self.client.post(path, json=event.payload)
        if response.status_code in (200, 201):
            try:
                body = response.json()
            except ValueError:
                body = {}
            return str(body.get("id")) if isinstance(body, dict) and body.get("id") else None, None
        return None, f"mediator answered {response.status_code}: {response.text[:200]}"
