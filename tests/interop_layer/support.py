"""Test helpers: real loopback servers (the forwarding client needs a socket), a provider, fakes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from services.interop_layer.consent_gate.clients import Decision, SubjectRefused
from services.interop_layer.main import create_app
from services.kernel.credentials import client_key

HEALTH = "DPI/GOV/MOH/hmis"
EDUCATION = "DPI/GOV/MOE/emis"
REGISTRIES = "DPI/GOV/CRVS/registries"
NIA = "DPI/GOV/NIA/id-registry"


def client_headers(member: str, **extra: str) -> dict[str, str]:
    return {"X-Road-Client": member, "X-DPI-Client-Key": client_key(member), **extra}


ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}
TRACEBACK = 'Traceback (most recent call last):\n  File "/srv/provider/app.py", line 7\n'


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or condition}")


async def await_for(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or condition}")


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port in a thread; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, what="uvicorn start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def provider_app() -> FastAPI:
    """A provider that echoes what it received, streams, fails and hangs on demand."""
    app = FastAPI()
    app.state.seen = []
    app.state.release = asyncio.Event()

    @app.api_route(
        "/echo/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    )
    async def echo(request: Request, rest: str) -> Response:
        body = await request.body()
        seen = {
            "method": request.method,
            "path": request.url.path,
            "rawPath": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        app.state.seen.append(seen)
        return JSONResponse(seen, headers={"X-Provider": "yes"})

    @app.head("/echo/{rest:path}")
    async def head(rest: str) -> Response:
        return Response(headers={"X-Provider": "yes", "Content-Length": "42"})

    @app.get("/fail")
    async def fail() -> Response:
        return JSONResponse({"httpStatus": "Conflict", "message": "provider says no"}, 409)

    @app.get("/crash")
    async def crash() -> Response:
        return Response(TRACEBACK, 500, media_type="text/plain")

    @app.get("/big")
    async def big(size: int = 300_000) -> Response:
        async def chunks() -> Any:
            sent = 0
            while sent < size:
                n = min(65536, size - sent)
                sent += n
                yield b"x" * n

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/broken")
    async def broken() -> Response:
        async def chunks() -> Any:
            yield b"x" * 70_000
            raise RuntimeError("the provider breaks off mid-answer")

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
        return {"received": total}

    @app.get("/hang")
    async def hang() -> dict[str, str]:
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=5)
        return {"late": "yes"}

    @app.get("/openapi-doc")
    async def openapi_doc() -> dict[str, Any]:
        ok = {"responses": {"200": {"description": "ok"}}}
        return {
            "openapi": "3.1.0",
            "info": {"title": "echo", "version": "1"},
            "paths": {
                "/echo/people/status": {"get": ok},
                "/echo/people/{id}": {"get": ok, "delete": ok, "summary": "one person"},
                "/other": {"get": ok},
            },
        }

    return app


class FakeExchanger:
    """Token exchange over a fixed table person -> {partner: token}."""

    def __init__(self, people: dict[str, dict[str, str]], inactive: set[str] | None = None):
        self.people = people
        self.inactive = inactive or set()
        self.calls: list[dict[str, Any]] = []

    async def exchange(
        self, *, from_partner: str, token: str, to_partners: list[str]
    ) -> dict[str, str]:
        self.calls.append({"from": from_partner, "token": token, "to": to_partners})
        for person, tokens in self.people.items():
            if tokens.get(from_partner) == token:
                if person in self.inactive:
                    raise SubjectRefused("The subject's identity is not active.")
                return {p: tokens.get(p, f"{p}-{person}") for p in to_partners}
        raise SubjectRefused("The subject's identity is unknown.")


class FakeDecider:
    """Permits (subject, consumer, purpose) triples it was told about."""

    def __init__(self, permits: set[tuple[str, str, str]]):
        self.permits = permits
        self.calls: list[dict[str, Any]] = []

    async def decide(self, **request: Any) -> Decision:
        self.calls.append(request)
        key = (request["subject"], request["data_consumer"], request["purpose"])
        n = len(self.calls)
        if key in self.permits:
            return Decision("permit", f"dec-{n}", "rec-1", "consent record rec-1 permits")
        return Decision("deny", f"dec-{n}", None, "no active consent for this purpose")


# the right the seeded catalogue does not grant: EDUCATION may GET the registries' raw echo
ECHO_RIGHT = {
    "client": EDUCATION,
    "provider": REGISTRIES,
    "serviceCode": "raw",
    "endpoints": [{"method": "GET", "path": "/echo/*"}],
}


def mediator_replicas(provider: Any, make_settings: Any, fakes: Any) -> tuple[FastAPI, FastAPI]:
    """Mediator replicas "a" and "b" on one database (the fixtures of `conftest.py`)."""
    exchanger, decider = fakes
    settings = make_settings(provider[1])
    first, second = (
        create_app(
            settings.model_copy(update={"replica": name}),
            token_exchanger=exchanger,
            decision_client=decider,
        )
        for name in ("a", "b")
    )
    return first, second
