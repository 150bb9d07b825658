"""The mediator's front door: calls to provider services take a short way in.

`/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICECODE}/...` is the hot path. It goes through
the kernel's tracing and access log and its own body size limit, then straight to the exchange
record and forwarding; the application's generic layers (error middleware, the router with its
few dozen routes) are skipped, as is wrapping every ASGI message to watch the answer: the
forwarding code knows the status and bodies it sends. A call without a body, while no spans are
exported and no access log is written, enters its span here instead: those three layers would
only pass it through (a tenth of the hop's CPU). Everything else, the mediator's own r1
endpoints (metaservices, pub/sub rooms) included, goes through the usual stack.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.interop_layer.auth import request_headers
from services.interop_layer.catalogue.models import RESERVED_CODES
from services.interop_layer.errors import render_xroad_error
from services.interop_layer.messagelog.capture import (
    Exchange,
    HeldAnswer,
    answer_logged,
    begin_exchange,
)
from services.interop_layer.routing.call import call_service
from services.interop_layer.runtime import InteropRuntime
from services.kernel import otel
from services.kernel.errors import DomainError
from services.kernel.limits import BodyLimits, RequestLimitsMiddleware
from services.kernel.logs import AccessLogMiddleware, access_log
from services.kernel.runtime import runtime_of
from services.kernel.tracing import (
    TraceMiddleware,
    enter_span,
    leave_span,
    parse_traceparent,
    start_span,
)

Unexpected = Callable[[Request, Any], Response | Awaitable[Response]]  # Starlette's handler type


def service_call(scope: Scope) -> list[str] | None:
    """The five parts of the service id when this is a call to a provider service."""
    if scope["type"] != "http":
        return None
    path: str = scope["path"]
    if not path.startswith("/r1/"):
        return None
    parts = path.split("/", 7)
    if len(parts) < 7 or not parts[6] or parts[6] in RESERVED_CODES:
        return None
    return parts[2:7]


_FRAMING = (b"content-length", b"transfer-encoding")


def passed_through(headers: dict[bytes, bytes]) -> bool:
    """Whether tracing, the access log and the body limit would only pass this call through:
    no span is exported, no access line written, and the request (`request_headers`) announces
    no body."""
    if otel.exporter() is not None or access_log.isEnabledFor(logging.INFO):
        return False
    return _FRAMING[0] not in headers and _FRAMING[1] not in headers


class MediatorEntrance:
    def __init__(self, app: ASGIApp, *, unexpected: Unexpected | None, max_body: int) -> None:
        self.app = app
        self.unexpected = unexpected
        # body and query go to the provider unparsed (it checks JSON and paging), so only the
        # body's size is limited here; the client key is checked before any of it is read
        limited = RequestLimitsMiddleware(
            self.answer,
            limits=BodyLimits(default=max_body, json_depth=None, check_paging=False),
            renderer=render_xroad_error,
        )
        self.short_way = TraceMiddleware(AccessLogMiddleware(limited))
        self.runtime: InteropRuntime | None = None  # read once the lifespan has started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = service_call(scope)
        if params is None:
            if scope["type"] == "lifespan":
                send = self._on_startup(scope, send)
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)  # read once for the whole call
        if not passed_through(headers):
            await self.short_way(scope, receive, send)
            return
        incoming = headers.get(b"traceparent")
        context, token = enter_span(
            scope,
            start_span(None if incoming is None else parse_traceparent(incoming.decode("latin-1"))),
        )
        try:
            trace = (b"traceparent", context.traceparent.encode())
            await self._logged(scope, receive, send, params, headers, trace)
        finally:
            leave_span(token)

    def _on_startup(self, scope: Scope, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.runtime = runtime_of(scope["app"], InteropRuntime)
            await send(message)

        return lifespan_send

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The call, recorded (the short way: after tracing, access log and body limit)."""
        params = service_call(scope)
        assert params is not None
        await self._logged(scope, receive, send, params, request_headers(scope), None)

    async def _logged(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        params: list[str],
        headers: dict[bytes, bytes],
        trace: tuple[bytes, bytes] | None,
    ) -> None:
        """`trace` is the `traceparent` header when the call's span began here."""
        runtime = self.runtime or runtime_of(scope["app"], InteropRuntime)  # lifespan run apart
        exchange = begin_exchange(scope, runtime.settings, headers)
        held = HeldAnswer(send, scope, trace)  # the answer leaves once its record is committed
        await answer_logged(
            runtime,
            scope,
            exchange,
            held,
            lambda: self._answer(scope, receive, held, params, headers, exchange, runtime),
        )

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        params: list[str],
        headers: dict[bytes, bytes],
        exchange: Exchange,
        runtime: InteropRuntime,
    ) -> None:
        try:
            await call_service(scope, receive, send, params, runtime, headers)
            return
        except DomainError as error:  # raised before the answer started
            response = render_xroad_error(Request(scope, receive), error)
        except HTTPException as exc:  # the body limit stopped the read
            refused = DomainError(str(exc.detail), status_code=exc.status_code)
            response = render_xroad_error(Request(scope, receive), refused)
        except ClientDisconnect:
            exchange.broken = True  # nobody is left to answer
            return
        except Exception as exc:
            if exchange.status or self.unexpected is None:
                raise  # the answer has started: the server ends the connection
            handled = self.unexpected(Request(scope, receive), exc)
            response = await handled if inspect.isawaitable(handled) else handled
        exchange.status = response.status_code
        if exchange.limit:
            exchange.response_body = bytes(response.body)
        await response(scope, receive, send)
