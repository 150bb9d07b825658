"""An in-process fake of the mediator's pub/sub and forwarding, for the kernel's client tests."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def denied(kind: str) -> JSONResponse:
    """A mediator fault as PR-REST renders it (500, `X-Road-Error`)."""
    body = {"type": kind, "message": "refused", "detail": "x"}
    return JSONResponse(body, status_code=500, headers={"X-Road-Error": kind})


class FakeMediator(httpx.AsyncBaseTransport):
    """Event types per room, publish (201 with an id), subscribe (201, then 409), forwarding.

    A transport itself: a client closing it leaves it usable (the mediator client opens many)."""

    def __init__(self) -> None:
        self.mode = "up"  # "up", "failing" (503 on publish), "down" (connection refused)
        self.types: set[tuple[str, str]] = set()
        self.subscriptions: set[tuple[str, str]] = set()
        self.published: list[tuple[str, str, Any]] = []
        self.seen: list[httpx.Headers] = []
        self.requests: list[tuple[str, str]] = []
        app = FastAPI()
        room = "/r1/{instance}/{cls}/{member}/{subsystem}"

        def room_of(request: Request) -> str:
            params = request.path_params
            return f"{params['instance']}/{params['cls']}/{params['member']}/{params['subsystem']}"

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.seen.append(httpx.Headers(dict(request.headers)))
            self.requests.append((request.method, request.url.path))
            return await call_next(request)

        @app.post(room + "/api/v1/eventType")
        async def declare(request: Request) -> JSONResponse:
            self.types.add((room_of(request), (await request.json())["eventType"]))
            return JSONResponse({}, status_code=201)

        @app.post(room + "/pub/v1/{event_type}")
        async def publish(event_type: str, request: Request) -> JSONResponse:
            if self.mode == "failing":
                return JSONResponse({"type": "Server.ServerProxy"}, status_code=503)
            if (room_of(request), event_type) not in self.types:
                return JSONResponse({"message": "Unknown event type"}, status_code=404)
            self.published.append((room_of(request), event_type, await request.json()))
            return JSONResponse({"id": f"evt-{len(self.published)}"}, status_code=201)

        @app.post(room + "/api/v1/subs/{event_type}")
        async def subscribe(event_type: str, request: Request) -> JSONResponse:
            if event_type == "forbidden":
                return denied("Server.ServerProxy.AccessDenied")
            key = (room_of(request), event_type)
            if key in self.subscriptions:
                return JSONResponse({"message": "already subscribed"}, status_code=409)
            self.subscriptions.add(key)
            return JSONResponse({"id": event_type}, status_code=201)

        @app.get(room + "/{path:path}")
        async def forward(path: str, request: Request) -> dict[str, Any]:
            return {"room": room_of(request), "path": path, "query": str(request.url.query)}

        self.app = app
        self.transport = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "down":
            raise httpx.ConnectError("connection refused", request=request)
        return await self.transport.handle_async_request(request)
