"""One message-log record per exchange, captured around every `/r1/...` call.

Handlers fill in what only they know (client, service, decision, ...) on `request.state.exchange`;
what the wire shows (status, timings, bodies when configured) is added where the answer is sent.
The answer's last message is held back until the record is committed: no exchange is answered
without its record (X-Road's promise), refusals included.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.types import Message, Scope, Send

from services.interop_layer.errors import LoggingFailed, render_xroad_error
from services.interop_layer.messagelog.outage import LogUnavailable
from services.interop_layer.settings import InteropSettings
from services.kernel.ids import uuid7
from services.kernel.redact import redact_path
from services.kernel.serving import answer_whole, cork_of, own_cycle
from services.kernel.time import utcnow

if TYPE_CHECKING:
    from services.interop_layer.messagelog.writer import LogWriter


@dataclass(slots=True)
class Exchange:
    x_road_id: str
    request_id: str
    kind: str = "exchange"
    client: str | None = None
    service: str | None = None
    request_hash: str | None = None
    subject_hash: str | None = None
    purpose: str | None = None
    decision_id: str | None = None
    consent_record_id: str | None = None
    error_type: str | None = None
    upstream_us: int | None = None
    broken: bool = False
    status: int = 0  # of the answer, once it has started
    limit: int = 0  # bodies are captured up to about this many bytes (log mode "full")
    request_body: bytes | bytearray = b""
    response_body: bytes | bytearray = b""


def outcome_of(status: int, broken: bool = False) -> str:
    """OpenHIM's vocabulary for a finished exchange."""
    if status >= 500:
        return "Failed"
    if broken:
        return "Completed with error(s)"
    if status >= 400:
        return "Completed"
    return "Successful"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def begin_exchange(
    scope: Scope, settings: InteropSettings, headers: dict[bytes, bytes] | None = None
) -> Exchange:
    """The exchange of this request, kept in the request's state for the handlers; `headers`
    are the request's (`auth.request_headers`) when already read."""
    given = _header(scope, b"x-road-id") if headers is None else headers.get(b"x-road-id")
    exchange = Exchange(
        x_road_id=(given.decode("latin-1") if given else uuid7())[:100],
        request_id=uuid7(),
        limit=settings.message_log_body_limit if settings.message_log_bodies == "full" else 0,
    )
    scope.setdefault("state", {})["exchange"] = exchange
    return exchange


class HeldAnswer:
    """An ASGI `send` that keeps the answer's last message (and all before it, unless the body
    streams) until `release`: the client has no complete answer before the record is durable."""

    __slots__ = ("cork", "cycle", "extra", "held", "send", "started")

    def __init__(self, send: Send, scope: Scope, extra: tuple[bytes, bytes] | None = None) -> None:
        self.send = send
        self.held: list[Message] = []
        self.cork = cork_of(scope)
        self.cycle = own_cycle(send)  # the server's, when `send` is its own
        self.started = False  # part of the answer has left (a streamed body)
        self.extra = extra  # a header the answer's head gets last (the trace's, on the short way)

    async def __call__(self, message: Message) -> None:
        if self.extra is not None and message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), self.extra]
        if message.get("more_body"):  # a streamed body: what came before may go now
            held, self.held = self.held, [message]
            self.started = self.started or bool(held)
            for earlier in held:
                await self.send(earlier)
        else:
            self.held.append(message)

    async def release(self) -> None:
        """Send what was held; head and body leave in one write where the server allows."""
        held, self.held = self.held, []
        if len(held) == 2 and self.cycle is not None and answer_whole(self.cycle, *held):
            return  # written as the server would, in one write
        cork = self.cork if len(held) > 1 else None
        if cork is None:
            for message in held:
                await self.send(message)
            return
        cork.cork()
        try:
            for message in held:
                await self.send(message)
        finally:
            cork.uncork()


class Recording(Protocol):
    """What recording an exchange needs of the running mediator (its `InteropRuntime`)."""

    settings: InteropSettings
    message_log: LogWriter
    exchanges_in_flight: int


async def answer_logged(
    runtime: Recording,
    scope: Scope,
    exchange: Exchange,
    held: HeldAnswer,
    answer: Callable[[], Awaitable[None]],
) -> None:
    """Run `answer` (which sends through `held`), commit the record, then let the answer go.
    While the log cannot be written the exchange is refused (503) before it starts; an answer
    whose record could not be committed is replaced by that refusal (`messagelog.outage`)."""
    writer = runtime.message_log
    logged = runtime.settings.message_log_bodies != "off"
    if logged and not writer.available:
        await refuse_unlogged(scope, held.send)
        return
    started, clock = utcnow(), time.perf_counter()
    runtime.exchanges_in_flight += 1
    writer.expected += logged
    try:
        try:
            await answer()
        except Exception:
            exchange.broken = True  # an outer layer may still answer (500): record it first
            if logged:
                writer.expected -= 1
                await writer.commit(exchange_fields(scope, exchange, started, clock))
            raise
        except BaseException:
            exchange.broken = True  # cancelled: no answer leaves, the record need not be awaited
            if logged:
                writer.expected -= 1
                writer.submit(exchange_fields(scope, exchange, started, clock))
                writer.gathered()
            raise
        if logged:
            writer.expected -= 1
            try:
                await writer.commit(exchange_fields(scope, exchange, started, clock))
            except LogUnavailable:
                if held.started:
                    raise  # part of the answer left: the server ends the connection
                held.held = []
                await refuse_unlogged(scope, held.send)
                return
        await held.release()
    finally:
        runtime.exchanges_in_flight -= 1


async def refuse_unlogged(scope: Scope, send: Send) -> None:
    """The 503 of an exchange the message log cannot record (the one answer left unlogged)."""
    response = render_xroad_error(Request(scope), LoggingFailed())
    await response(scope, _nothing_received, send)


async def _nothing_received() -> Message:
    return {"type": "http.disconnect"}


def exchange_fields(
    scope: Scope, exchange: Exchange, started: datetime, clock: float
) -> dict[str, Any]:
    """The exchange's record (the writer decodes the bodies)."""
    trace = scope["state"].get("trace")
    status = exchange.status or 500  # nothing was answered: the server answers 500
    fields: dict[str, Any] = {
        "x_road_id": exchange.x_road_id,
        "request_id": exchange.request_id,
        "trace_id": getattr(trace, "trace_id", None),
        "kind": exchange.kind,
        "client": exchange.client,
        "service": exchange.service,
        "method": scope["method"],
        "path": redact_path(scope["path"]).replace("\x00", "%00"),  # PostgreSQL text has no NUL
        "query": scope.get("query_string", b"").decode("latin-1"),
        "status_code": status,
        "outcome": outcome_of(status, exchange.broken),
        "started_at": started,
        "duration_us": int((time.perf_counter() - clock) * 1_000_000),
        "upstream_us": exchange.upstream_us,
        "request_hash": exchange.request_hash,
        "subject_hash": exchange.subject_hash,
        "purpose": exchange.purpose,
        "decision_id": exchange.decision_id,
        "consent_record_id": exchange.consent_record_id,
        "error_type": exchange.error_type,
        "request_body": None,
        "response_body": None,
        "request_fields": None,
        "response_fields": None,
    }
    if exchange.limit:
        fields["_bodies"] = (
            bytes(exchange.request_body),
            bytes(exchange.response_body),
            exchange.limit,
        )
    return fields
