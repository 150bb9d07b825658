"""A database outage raised ahead of the error handlers (a service's own middleware, a header
check), answered 503 in the service's error shape by the outermost layer.

Starlette hands such an exception to its last-resort handler, which answers and then raises it
again; the server then closes the connection. A client still sending its body meets that close
as a reset and often never reads the 503. Answered here instead, nothing is raised: the server
keeps the connection and skips the rest of the body, and the client reads the 503.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.kernel.errors import ErrorRenderer, database_unavailable
from services.kernel.outage import database_unreachable


class OutageGuardMiddleware:
    def __init__(self, app: ASGIApp, *, renderer: ErrorRenderer) -> None:
        self.app = app
        self.renderer = renderer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # only an outage is answered here; the rest goes on up
            if started or not database_unreachable(exc):
                raise
            response = database_unavailable(self.renderer, Request(scope), exc)
            await response(scope, receive, send)
