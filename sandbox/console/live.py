"""Live updates: the mediator's new log records and readiness, pushed to browsers as SSE."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from sandbox.console.config import ConsoleConfig
from sandbox.console.mediator import MediatorUnavailable, SandboxClient
from sandbox.trace.build import consent_of, subsystem_of

log = logging.getLogger("dpi.console")
HEARTBEAT = 15.0
READINESS_EVERY = 3.0


def reason_of(record: dict[str, Any]) -> str | None:
    """A refusal's message (`Consent denied: ...`) from the mediator's error body, if logged."""
    if not record.get("errorType") or not record.get("responseBody"):
        return None
    try:
        body = json.loads(record["responseBody"])
    except ValueError:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:160] if message else None


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What the map and the log's live rows need of one record."""
    return {
        "seq": record["seq"],
        "kind": record.get("kind"),
        "client": record.get("client"),
        "provider": subsystem_of(record.get("service")),
        "service": record.get("service"),
        "method": record.get("method"),
        "path": record.get("path"),
        "status": record.get("statusCode"),
        "outcome": record.get("outcome"),
        "error": record.get("errorType"),
        "reason": reason_of(record),
        "consent": consent_of(record),
        "subject": bool(record.get("subjectHash")),
        "purpose": record.get("purpose"),
        "startedAt": record.get("startedAt"),
    }


class Hub:
    """Fan-out of events to every connected browser; bounded queues drop a slow reader's excess."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[str]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.readiness: dict[str, bool] = {}
        self.last_seq = 0
        self.mediator_error: str | None = None

    def publish(self, event: str, data: dict[str, Any]) -> None:
        message = f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"
        for queue in list(self.queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)

    def publish_threadsafe(self, event: str, data: dict[str, Any]) -> None:
        """From a worker thread (scenario runs)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.publish, event, data)

    async def stream(self, disconnected: Callable[[], Any]) -> AsyncGenerator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self.queues.add(queue)
        try:
            yield "retry: 1000\n\n"
            yield f"event: ready\ndata: {json.dumps(self.readiness)}\n\n"
            while not await disconnected():
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=HEARTBEAT)
                except TimeoutError:
                    yield ": keep-alive\n\n"
        finally:
            self.queues.discard(queue)


async def follow(config: ConsoleConfig, client: SandboxClient, hub: Hub) -> None:
    """While a browser is connected, poll the mediator's log for records after the last one seen
    (server-side, every `poll_interval`) and every service's readiness; publish what is new.
    With nobody watching it asks nothing (each poll is a line in the services' access logs)."""
    started = False
    checked = 0.0
    while True:
        if not hub.queues:
            started, checked = False, 0.0  # a new viewer starts from the head, readiness at once
            await asyncio.sleep(config.poll_interval)
            continue
        try:
            if not started:
                newest = await client.records(order="desc", limit=1)
                hub.last_seq = newest[0]["seq"] if newest else 0
                started = True
            found = await client.records(afterSeq=hub.last_seq, limit=200, includeBodies="true")
            for record in found:
                hub.last_seq = max(hub.last_seq, int(record["seq"]))
                hub.publish("exchange", summary(record))
            hub.mediator_error = None
        except MediatorUnavailable as exc:
            hub.mediator_error = str(exc)
        except Exception:  # the live view must survive anything the mediator answers
            log.exception("following the message log failed")
        if time.monotonic() - checked > READINESS_EVERY:
            checked = time.monotonic()
            names = [spec.name for spec in config.topology.services]
            answers = await asyncio.gather(*(client.ready(name) for name in names))
            readiness = dict(zip(names, answers, strict=True))
            if readiness != hub.readiness:
                hub.readiness = readiness
                hub.publish("ready", readiness)
        await asyncio.sleep(config.poll_interval)
