"""Helpers for tests and in-process wiring: run an app's lifespan, talk to it over ASGI."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from services.kernel.serving import HttpProtocol


@asynccontextmanager
async def serve_in_process(
    app: FastAPI, base_url: str = "http://test"
) -> AsyncIterator[httpx.AsyncClient]:
    """Start `app` (its lifespan runs) and yield a client that calls it without a socket."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


@contextmanager
def serve_on_loopback(
    app: ASGIApp, *, deadline: float = 10.0, access_log: bool = True, keep_alive: float = 5.0
) -> Iterator[str]:
    """Serve `app` with uvicorn (the services' HTTP protocol) in a thread on a free loopback
    port; yield its base URL. `access_log=False` serves as the launcher does (no access log);
    `keep_alive` is how long an idle connection is kept (uvicorn's default)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        http=HttpProtocol,
        access_log=access_log,
        timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # typed int, used as a delay
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    limit = time.monotonic() + deadline
    while not server.started:
        if time.monotonic() > limit or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
