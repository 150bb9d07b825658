"""Replicas on one PostgreSQL database: before a request, the metadata read model is brought up
to date with what another replica wrote (one query for the stamp; the metadata read again only
when it changed). On SQLite there is one process per database and nothing to check."""

from __future__ import annotations

from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kernel.outage import database_unreachable
from services.kernel.runtime import NotStarted, runtime_of
from services.sectoral_platform.runtime import SectoralRuntime

# the probes read no metadata, and `/readyz` must answer for the database in its own shape
PROBES = frozenset({"/healthz", "/readyz"})


class FreshMetadataMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in PROBES:
            try:
                store = runtime_of(scope["app"], SectoralRuntime).metadata
            except NotStarted:
                store = None
            if store is not None and store.shared:
                try:
                    await run_in_threadpool(store.refresh)
                except Exception as exc:
                    # The route meets the outage itself, once it has read its request: answered
                    # here, before the body is read, the server closes the connection under a
                    # client still sending (seen as a read error, not a 503).
                    if not database_unreachable(exc):
                        raise
        await self.app(scope, receive, send)
