"""W3C Trace Context: read `traceparent` on every request (or start a trace), expose it to logs
and outgoing calls, and echo it on the response."""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel import ids, otel
from services.kernel.redact import redact_path

TRACEPARENT = "traceparent"
_PATTERN = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    parent_id: str | None = None
    flags: str = "01"

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def child(self) -> TraceContext:
        """A new span in the same trace, whose parent is this one."""
        return TraceContext(self.trace_id, new_span_id(), self.span_id, self.flags)


new_trace_id = ids.trace_id
new_span_id = ids.span_id


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The incoming context, or None when the header is absent or malformed (then start anew)."""
    if not value:
        return None
    match = _PATTERN.match(value.strip().lower())
    if not match:
        return None
    version, trace_id, parent_id, flags = match.groups()
    if version == "ff" or trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return TraceContext(trace_id=trace_id, span_id=parent_id, flags=flags)


def start_span(incoming: TraceContext | None) -> TraceContext:
    if incoming is None:
        return TraceContext(new_trace_id(), new_span_id())
    return incoming.child()


_current: ContextVar[TraceContext | None] = ContextVar("dpi_trace", default=None)


def current_trace() -> TraceContext | None:
    return _current.get()


def set_trace(context: TraceContext | None) -> None:
    _current.set(context)


def outgoing_traceparent() -> str:
    """The header for a call made now: a child of the current span, or a fresh trace."""
    return start_span(current_trace()).traceparent


class TraceMiddleware:
    """Pure ASGI middleware, so the context var is visible to the endpoint and its logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for key, value in scope["headers"]:
            if key == b"traceparent":
                incoming = parse_traceparent(value.decode("latin-1"))
                break
        context = start_span(incoming)
        scope.setdefault("state", {})["trace"] = context
        token = _current.set(context)
        header = (b"traceparent", context.traceparent.encode())
        status = 500
        started = otel.now_ns()

        async def send_with_trace(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            _current.reset(token)
            if otel.exporter() is not None:
                otel.record(server_span(scope, context, status, started))


def server_span(scope: Scope, context: TraceContext, status: int, started: int) -> otel.Span:
    route = scope.get("route")
    path = getattr(route, "path", None) or redact_path(scope["path"])
    return otel.Span(
        name=f"{scope['method']} {path}",
        context=context,
        kind=otel.SERVER,
        start_ns=started,
        end_ns=otel.now_ns(),
        attributes={
            "http.request.method": scope["method"],
            "url.path": redact_path(scope["path"]),
            "http.route": path,
            "http.response.status_code": status,
        },
        error=status >= 500,
    )
