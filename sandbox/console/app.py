"""The console's FastAPI app: pages, static files, the live feed's background follower."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from sandbox.console import routes_log, routes_map, routes_people, routes_scenarios
from sandbox.console.config import ConsoleConfig
from sandbox.console.html import PAGES, NotFoundPage, not_found
from sandbox.console.live import Hub, follow
from sandbox.console.mediator import SandboxClient
from sandbox.console.runs import RunManager
from sandbox.console.state import ConsoleState

STATIC = Path(__file__).with_name("static")


def create_app(config: ConsoleConfig, *, live: bool = True) -> FastAPI:
    """The console of one sandbox; `live=False` skips the log follower (route tests)."""
    hub = Hub()
    client = SandboxClient(config)
    state = ConsoleState(config, client, hub, RunManager(config, hub))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.loop = asyncio.get_running_loop()
        task = asyncio.create_task(follow(config, client, hub)) if live else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.close()

    app = FastAPI(title="DPI Sandbox console", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.console = state
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (routes_map, routes_log, routes_scenarios, routes_people):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "console"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        return JSONResponse({"status": "ready", "service": "console"})

    @app.exception_handler(NotFoundPage)
    async def _not_found(request: Request, exc: NotFoundPage) -> HTMLResponse:
        return not_found(exc)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            pages = [(href, label) for _, href, label in PAGES]
            return not_found(NotFoundPage(f"No page {request.url.path}.", pages, "Pages"))
        return HTMLResponse(str(exc.detail), status_code=exc.status_code)

    return app
