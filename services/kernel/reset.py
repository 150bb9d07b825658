"""`POST /admin/reset`: the service's tables back to a freshly seeded state in one transaction.

The fast way back to a clean sandbox between tests (no restart). Admin key only. The first
reset empties the tables and runs the service's seed; the rows that leaves are kept in memory,
and later resets put them back with one bulk insert per table (a seed through the service's
own code costs up to a few hundred ms). Either way the service then drops what its runtime
keeps in memory about the old rows (`forget`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import MetaData, Table

from services.kernel.credentials import AdminDep
from services.kernel.db import Database
from services.kernel.runtime import kernel_state

AppHook = Callable[[FastAPI], Awaitable[None]]
Rows = dict[str, list[dict[str, Any]]]


async def _nothing(app: FastAPI) -> None:
    return None


@dataclass
class ResetHooks:
    """`seed` fills the emptied tables; `forget` drops in-memory state built from the old rows."""

    seed: AppHook
    forget: AppHook = _nothing
    keep: Collection[str] = ()  # tables left as they are (an audit log)


@dataclass
class _Seeded:
    rows: Rows | None = None
    tables: list[Table] = field(default_factory=list)


def truncate(database: Database, tables: list[Table], rows: Rows | None = None) -> None:
    """Every row of `tables` deleted (children first), then `rows` inserted, in one transaction."""
    with database.engine.begin() as connection:
        for table in reversed(tables):
            connection.execute(table.delete())
        for table in tables:
            if rows and rows.get(table.name):
                connection.execute(table.insert(), rows[table.name])


def capture(database: Database, tables: list[Table]) -> Rows:
    with database.engine.connect() as connection:
        return {t.name: [dict(r._mapping) for r in connection.execute(t.select())] for t in tables}


def reset_router(metadata: MetaData, hooks: ResetHooks) -> APIRouter:
    router = APIRouter(tags=["admin"])
    seeded = _Seeded(tables=[t for t in metadata.sorted_tables if t.name not in hooks.keep])

    @router.post(
        "/admin/reset",
        summary="Back to the freshly seeded state (admin key only)",
        description="Tables kept as they are: " + (", ".join(sorted(hooks.keep)) or "none") + ".",
    )
    async def reset(request: Request, _: AdminDep) -> dict[str, Any]:
        app: FastAPI = request.app
        database = kernel_state(app).database
        started = time.perf_counter()
        if seeded.rows is None:
            await run_in_threadpool(truncate, database, seeded.tables)
            await hooks.seed(app)
            seeded.rows = await run_in_threadpool(capture, database, seeded.tables)
        else:
            await run_in_threadpool(truncate, database, seeded.tables, seeded.rows)
        await hooks.forget(app)
        return {
            "service": kernel_state(app).service.name,
            "tables": len(seeded.tables),
            "kept": sorted(hooks.keep),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    return router
