"""Records the mediator's own r1 endpoints as they answer (see `capture.py`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.interop_layer.messagelog.capture import HeldAnswer, answer_logged, begin_exchange
from services.interop_layer.runtime import InteropRuntime
from services.kernel.runtime import runtime_of


class ExchangeLogMiddleware:
    """Records the mediator's own r1 endpoints (metaservices, pub/sub) as they answer; calls to
    provider services are recorded by the forwarding entrance itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/r1/") or path == "/listClients"):
            await self.app(scope, receive, send)
            return
        runtime = runtime_of(scope["app"], InteropRuntime)
        exchange = begin_exchange(scope, runtime.settings)
        limit = exchange.limit
        request_body, response_body = bytearray(), bytearray()
        exchange.request_body, exchange.response_body = request_body, response_body
        held = HeldAnswer(send, scope)

        async def tee_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) <= limit:
                request_body.extend(message.get("body", b""))
            return message

        async def tee_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                headers = message.setdefault("headers", [])
                if not any(key.lower() == b"x-road-id" for key, _ in headers):
                    headers.append((b"x-road-id", exchange.x_road_id.encode("latin-1")))
            elif limit and message["type"] == "http.response.body" and len(response_body) <= limit:
                response_body.extend(message.get("body", b""))
            await held(message)

        tee = tee_receive if limit else receive
        await answer_logged(runtime, scope, exchange, held, lambda: self.app(scope, tee, tee_send))
