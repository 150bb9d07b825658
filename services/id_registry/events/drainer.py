"""Publishes the outbox through the mediator's pub/sub, in order, at least once, with back-off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from anyio import to_thread
from sqlmodel import col, select

from services.id_registry.deps import db_time
from services.id_registry.events.models import OutboxEvent
from services.kernel.credentials import client_key
from services.kernel.db import Database

log = logging.getLogger("dpi.id_registry.events")

ClientFactory = Callable[[], httpx.AsyncClient]

_SCHEMAS: dict[str, dict[str, Any]] = {
    "identity-created": {
        "type": "object",
        "properties": {
            "civilRegistrationId": {"type": ["string", "null"]},
            "token": {"type": "string"},
        },
    },
    "identity-deactivated": {
        "type": "object",
        "properties": {"reason": {"type": ["string", "null"]}, "token": {"type": "string"}},
    },
}


class Drainer:
    """Background task: wakes on new events or on a timer; a round stops at the first failure."""

    def __init__(
        self,
        *,
        database: Database,
        member_id: str,
        client_factory: ClientFactory,
        clock: Callable[[], datetime],
        interval: float,
        max_backoff: float,
        secret: str | None = None,
        subscriptions: list[tuple[str, str]] | None = None,
    ) -> None:
        self.database = database
        self.member_id = member_id
        self.client_factory = client_factory
        self.clock = clock
        self.interval = interval
        self.max_backoff = max_backoff
        self.headers = {
            "X-Road-Client": member_id,
            "X-DPI-Client-Key": client_key(member_id, secret),
        }
        self.subscriptions = list(subscriptions or [])
        self._subscribe_failures = 0
        self.wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Wake the drainer; safe to call from a worker thread."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake.set)

    def _pending(self, limit: int) -> list[OutboxEvent]:
        with self.database.session() as session:
            query = (
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.id))
                .limit(limit)
            )
            return list(session.exec(query).all())

    def _record(self, event_id: int, *, remote_id: str | None, error: str | None) -> None:
        with self.database.session() as session:
            row = session.get(OutboxEvent, event_id)
            if row is None:
                return
            row.attempts += 1
            if error is None:
                row.published_at = db_time(self.clock())
                row.remote_id = remote_id
                row.last_error = None
            else:
                row.last_error = error[:300]
            session.add(row)
            session.commit()

    async def _publish(self, client: httpx.AsyncClient, row: OutboxEvent) -> httpx.Response:
        room = f"/r1/{self.member_id}"
        url = f"{room}/pub/v1/{row.event_type}"
        response = await client.post(url, json=row.payload, headers=self.headers)
        if response.status_code == 404:
            # The room owner declares its event types; do it on first use, then retry once.
            await client.post(
                f"{room}/api/v1/eventType",
                json={"eventType": row.event_type, "schema": _SCHEMAS.get(row.event_type, {})},
                headers=self.headers,
            )
            response = await client.post(url, json=row.payload, headers=self.headers)
        return response

    async def drain_once(self, batch: int = 100) -> int:
        """Publish pending events in order; return how many went out before any failure."""
        async with self._lock:
            return await self._drain(batch)

    async def _drain(self, batch: int) -> int:
        rows = await to_thread.run_sync(self._pending, batch)
        if not rows:
            return 0
        published = 0
        async with self.client_factory() as client:
            for row in rows:
                assert row.id is not None
                try:
                    response = await self._publish(client, row)
                except httpx.HTTPError as exc:
                    error: str | None = f"{type(exc).__name__}: {exc}"
                    remote_id = None
                else:
                    ok = response.status_code in (200, 201, 202)
                    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
                    remote_id = _remote_id(response) if ok else None
                await to_thread.run_sync(
                    partial(self._record, row.id, remote_id=remote_id, error=error)
                )
                if error is not None:
                    log.warning("event %s not published yet: %s", row.id, error)
                    return published
                published += 1
        return published

    async def ensure_subscriptions(self) -> bool:
        """Subscribe (PUSH to `/v1/events/inbox`) to each (room, event type) once; retried on
        every round until the mediator has accepted them all."""
        if not self.subscriptions:
            return True
        problem: str | None = None
        async with self.client_factory() as client:
            for room, event_type in list(self.subscriptions):
                try:
                    response = await client.post(
                        f"/r1/{room}/api/v1/subs/{event_type}",
                        json={"delivery": "PUSH", "pushPath": "/v1/events/inbox"},
                        headers=self.headers,
                    )
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    break
                if response.status_code >= 300 and response.status_code != 409:
                    problem = f"HTTP {response.status_code}"
                    break
                self.subscriptions.remove((room, event_type))
        if problem is None:
            return True
        self._subscribe_failures += 1
        if self._subscribe_failures % 30 == 1:  # retried every round: do not flood the log
            log.warning("cannot subscribe to civil registration events yet: %s", problem)
        return False

    async def run(self) -> None:
        backoff = self.interval
        while True:
            try:
                await self.ensure_subscriptions()
                published = await self.drain_once()
                pending = await to_thread.run_sync(self._pending, 1)
                if pending and published == 0:
                    backoff = min(backoff * 2, self.max_backoff)
                else:
                    backoff = self.interval
                if pending and published:
                    continue
            except Exception:  # a broken round must not kill the drainer
                log.exception("outbox drain failed")
                backoff = min(backoff * 2, self.max_backoff)
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=backoff)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self.run(), name="id_registry-outbox-drainer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _remote_id(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if value is not None else None
