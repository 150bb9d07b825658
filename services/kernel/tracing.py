"""W3C Trace Context: read `traceparent` on every request (or start a trace), expose it to logs
and outgoing calls, and echo it on the response."""

from __future__ import annotations

import re
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel import ids, otel

if TYPE_CHECKING:
    from services.kernel.otel_sdk import Export

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
    current = _current.get()  # `start_span(current).traceparent`, without the context object
    if current is None:
        return f"00-{new_trace_id()}-{new_span_id()}-01"
    return f"00-{current.trace_id}-{new_span_id()}-{current.flags}"


def enter_span(
    scope: Scope, context: TraceContext | None = None
) -> tuple[TraceContext, Token[TraceContext | None]]:
    """Enter the request's span (`context`, else a child of the incoming `traceparent` or a new
    trace), as `TraceMiddleware` does: kept in the scope's state and current until `leave_span`.
    For a path that skips the middleware; it still answers with the `traceparent` header."""
    if context is None:
        context = start_span(_incoming(scope))
    scope.setdefault("state", {})["trace"] = context
    return context, _current.set(context)


def leave_span(token: Token[TraceContext | None]) -> None:
    _current.reset(token)


class TraceMiddleware:
    """Pure ASGI middleware, so the context var is visible to the endpoint and its logs.

    With export on, the SDK's server span is the request's span: its ids are the ones the
    endpoint, its logs, its outgoing calls and the response's `traceparent` carry."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._exported: tuple[Export, ASGIApp] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        export = otel.exporter()
        if export is not None:
            await self._in_sdk_span(export)(scope, receive, send)
            return
        await self._serve(scope, receive, send, start_span(_incoming(scope)))

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, context: TraceContext
    ) -> None:
        _, token = enter_span(scope, context)
        header = (b"traceparent", context.traceparent.encode())

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            _current.reset(token)

    def _in_sdk_span(self, export: Export) -> ASGIApp:
        if self._exported is None or self._exported[0] is not export:
            self._exported = (export, export.server(self._serve_in_sdk_span))
        return self._exported[1]

    async def _serve_in_sdk_span(self, scope: Scope, receive: Receive, send: Send) -> None:
        from services.kernel import otel_sdk

        ids = otel_sdk.current_ids()
        incoming = _incoming(scope)
        if ids is None:
            context = start_span(incoming)
        else:
            parent = None if incoming is None else incoming.span_id
            context = TraceContext(ids[0], ids[1], parent, ids[2])

        async def send_named(message: Message) -> None:
            route = scope.get("route")
            if message["type"] == "http.response.start" and route is not None:
                otel_sdk.name_by_route(scope["method"], route.path)  # the span ends with the body
            await send(message)

        await self._serve(scope, receive, send_named, context)


def _incoming(scope: Scope) -> TraceContext | None:
    for key, value in scope["headers"]:
        if key == b"traceparent":
            return parse_traceparent(value.decode("latin-1"))
    return None
