"""`POST /admin/reset`: empty the service's tables in one transaction and seed them again.

The fast way back to a freshly seeded sandbox between tests (no restart). Admin key only; the
service's own hook then re-seeds and drops what its runtime keeps in memory."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import MetaData

from services.kernel.credentials import AdminDep
from services.kernel.db import Database
from services.kernel.runtime import kernel_state

ResetHook = Callable[[FastAPI], Awaitable[None]]


def truncate(database: Database, metadata: MetaData, keep: Collection[str] = ()) -> list[str]:
    """Delete every row of the metadata's tables but `keep`, children first, in one transaction."""
    emptied: list[str] = []
    with database.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name in keep:
                continue
            connection.execute(table.delete())
            emptied.append(table.name)
    return emptied


def reset_router(metadata: MetaData, hook: ResetHook, keep: Collection[str]) -> APIRouter:
    router = APIRouter(tags=["admin"])

    @router.post(
        "/admin/reset",
        summary="Empty the service's data and seed it again (admin key only)",
        description="Tables kept: " + (", ".join(sorted(keep)) or "none") + ".",
    )
    async def reset(request: Request, _: AdminDep) -> dict[str, Any]:
        app: FastAPI = request.app
        started = time.perf_counter()
        emptied = await run_in_threadpool(truncate, kernel_state(app).database, metadata, keep)
        await hook(app)
        return {
            "service": kernel_state(app).service.name,
            "emptied": len(emptied),
            "kept": sorted(keep),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    return router
