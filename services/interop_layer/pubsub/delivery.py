"""PUSH delivery: a background dispatcher drains due deliveries from the database.

Each attempt is a webhook `POST` of the GovStack `EventItem`; a 2xx marks it delivered, anything
else schedules a retry with exponential back-off, and after the last attempt it is dead-lettered
(redeliverable on demand). State lives in the database, so a restart resumes where it stopped.

Replicas on one PostgreSQL database claim due deliveries with `FOR UPDATE SKIP LOCKED` and keep
the claiming transaction open through the attempts until the outcome is settled in it: another
replica skips them meanwhile, and a replica killed mid-round (its connection closed) frees them
for the next round elsewhere; only what it had in flight is pushed again (at least once, as the
contract says: receivers deduplicate by the EventItem `id`). A FIFO subscription's delivery waits
while an earlier one is pending, whichever replica holds it. On SQLite (one process) the claim is
committed before the attempts, so the database is never locked during HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import orjson
from anyio import to_thread
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from services.interop_layer.messagelog.bodies import body_text
from services.interop_layer.messagelog.capture import outcome_of
from services.interop_layer.messagelog.writer import LogWriter
from services.interop_layer.pubsub.events import event_item, expired
from services.interop_layer.pubsub.models import (
    DEAD,
    DELIVERED,
    EXPIRED,
    PENDING,
    Delivery,
    Event,
    Subscription,
)
from services.interop_layer.pubsub.push import Attempt, push_error_type, push_target
from services.interop_layer.settings import InteropSettings
from services.kernel.claims import KEEP_OPEN
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.db import Database
from services.kernel.ids import uuid7
from services.kernel.outage import log_failure
from services.kernel.time import utcnow
from services.kernel.tracing import new_span_id, new_trace_id

log = logging.getLogger("dpi.interop.pubsub")
BATCH = 50
Entitled = Callable[[str, str, str], bool]  # (subscriber, room, event type) may receive it


class PushDispatcher:
    def __init__(
        self,
        *,
        database: Database,
        settings: InteropSettings,
        session: httpx.AsyncClient,
        writer: LogWriter,
        entitled: Entitled | None = None,
    ) -> None:
        self.database = database
        self.entitled = entitled
        self.settings = settings
        self.session = session
        self.writer = writer
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="pubsub-push")

    def notify(self) -> None:
        """Wake the dispatcher now (safe from worker threads)."""
        loop = getattr(self, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.wake.set)

    async def stop(self, grace: float = 2.0) -> None:
        """Finish the round in progress (up to `grace` seconds; unsettled ones stay pending)."""
        if self._task is not None:
            self._stopping = True
            self.wake.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=grace)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                wait = await self.run_once()
            except Exception as exc:
                log_failure(log, exc, "push dispatch failed; retrying")
                wait = self.settings.push_poll_interval
            if wait > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=wait)
            self.wake.clear()

    async def run_once(self) -> float:
        """Attempt every due delivery; return how long to wait before the next is due."""
        session = self.database.session()
        try:
            attempts, wait = await to_thread.run_sync(self._claim, session)
            if not attempts:
                await to_thread.run_sync(session.commit)
                return wait
            if self.database.is_sqlite:
                await to_thread.run_sync(session.commit)
                session.expire_all()  # settled against the rows as they are then
            await asyncio.gather(*(self._attempt(a) for a in attempts))
            await to_thread.run_sync(self._settle, session, attempts)
            return 0.0
        finally:
            await to_thread.run_sync(session.close)  # rolls back an unsettled claim

    def _claim(self, session: Session) -> tuple[list[Attempt], float]:
        now = utcnow()
        query = (
            select(Delivery, Subscription, Event)
            .join(Subscription, col(Subscription.id) == col(Delivery.subscription_id))
            .join(Event, col(Event.sequence) == col(Delivery.event_seq))
            .where(Delivery.state == PENDING, Subscription.delivery == "PUSH")
            .where(col(Delivery.next_attempt_at) <= now)
            .order_by(col(Delivery.event_seq))
            .limit(BATCH)
        )
        if not self.database.is_sqlite:
            session.execute(text(KEEP_OPEN))
            query = query.with_for_update(of=Delivery, skip_locked=True)
        rows = session.exec(query).all()
        attempts: list[Attempt] = []
        fifo_busy: set[str] = set()
        for delivery, sub, event in rows:
            if sub.fifo and (sub.id in fifo_busy or _earlier_pending(session, delivery)):
                continue
            if self.entitled is not None and not self.entitled(
                sub.subscriber, sub.room, sub.event_type
            ):  # the right was revoked since publication: a dead letter, redeliverable
                delivery.state, delivery.done_at = DEAD, now
                delivery.last_error = "the subscriber no longer holds the 'sub' right"
                session.add(delivery)
                continue
            if expired(delivery, sub):
                delivery.state, delivery.done_at = EXPIRED, now
                session.add(delivery)
                continue
            if sub.fifo:
                fifo_busy.add(sub.id)
            assert delivery.id is not None
            attempts.append(
                Attempt(
                    delivery_id=delivery.id,
                    url=push_target(sub),
                    item=event_item(event, sub.subscriber),
                    subscriber=sub.subscriber,
                    room=sub.room,
                    event_type=sub.event_type,
                    trace_id=event.trace_id,
                )
            )
        session.flush()
        wait = self.settings.push_poll_interval
        if not attempts:
            upcoming = session.exec(
                select(func.min(Delivery.next_attempt_at)).where(Delivery.state == PENDING)
            ).one()
            if upcoming is not None:
                wait = max(0.0, min(wait, (upcoming - utcnow()).total_seconds()))
        return attempts, wait

    async def _attempt(self, attempt: Attempt) -> None:
        x_road_id = uuid7()
        body = orjson.dumps(attempt.item)
        started, clock = utcnow(), time.perf_counter()
        traceparent = f"00-{attempt.trace_id or new_trace_id()}-{new_span_id()}-01"
        headers = {
            "Content-Type": "application/json",
            "X-Road-Client": attempt.room,
            "X-Road-Service": f"{attempt.subscriber}/events/{attempt.event_type}",
            "X-Road-Id": x_road_id,
            MEDIATOR_KEY_HEADER: mediator_key(self.settings.sandbox_secret),
            "traceparent": traceparent,
        }
        if attempt.url is None:
            attempt.error = "no push target (pushUrl / pushPath) can be resolved"
        else:
            try:
                response = await asyncio.wait_for(
                    self.session.post(attempt.url, content=body, headers=headers),
                    timeout=self.settings.push_timeout,
                )
                attempt.status = response.status_code
                if response.status_code >= 300:
                    attempt.error = f"subscriber answered {response.status_code}"
            except (TimeoutError, httpx.TimeoutException):
                attempt.error = "subscriber did not answer in time"
            except httpx.HTTPError as exc:
                attempt.error = f"subscriber unreachable: {type(exc).__name__}"
        self._log(attempt, x_road_id, traceparent, body, started, clock)

    def _log(
        self,
        attempt: Attempt,
        x_road_id: str,
        traceparent: str,
        body: bytes,
        started: Any,
        clock: float,
    ) -> None:
        if self.settings.message_log_bodies == "off":
            return
        status = attempt.status or (504 if "in time" in (attempt.error or "") else 502)
        full = self.settings.message_log_bodies == "full"
        path = attempt.url or ""
        self.writer.submit(
            {
                "x_road_id": x_road_id,
                "request_id": str(attempt.delivery_id),
                "trace_id": traceparent.split("-")[1],
                "kind": "delivery",
                "client": attempt.room,
                "service": f"{attempt.subscriber}/events/{attempt.event_type}",
                "method": "POST",
                "path": path,
                "query": "",
                "status_code": status,
                "outcome": outcome_of(status),
                "started_at": started,
                "duration_us": int((time.perf_counter() - clock) * 1_000_000),
                "upstream_us": None,
                "request_hash": None,
                "subject_hash": None,
                "purpose": None,
                "decision_id": None,
                "consent_record_id": None,
                "error_type": push_error_type(attempt),
                "request_body": body_text(body) if full else None,
                "response_body": None,
                "request_fields": sorted(attempt.item) if full else None,
                "response_fields": None,
            }
        )

    def _settle(self, session: Session, attempts: list[Attempt]) -> None:
        now = utcnow()
        settings = self.settings
        for attempt in attempts:
            delivery = session.get(Delivery, attempt.delivery_id)
            if delivery is None or delivery.state != PENDING:
                continue
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = attempt.status, attempt.error
            delivery.updated_at = now
            if attempt.error is None:
                delivery.state, delivery.done_at = DELIVERED, now
            elif delivery.attempts >= settings.push_max_attempts:
                delivery.state, delivery.done_at = DEAD, now
            else:
                backoff = settings.push_backoff_initial * 2 ** (delivery.attempts - 1)
                delay = min(backoff, settings.push_backoff_max)
                delivery.next_attempt_at = now + timedelta(seconds=delay)
            session.add(delivery)
        session.commit()


def _earlier_pending(session: Session, delivery: Delivery) -> bool:
    earlier = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.subscription_id == delivery.subscription_id,
            Delivery.state == PENDING,
            col(Delivery.event_seq) < delivery.event_seq,
        )
    ).one()
    return bool(earlier)
