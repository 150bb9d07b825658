"""`POST /admin/reset`: the service's tables back to a freshly seeded state in one transaction.

The fast way back to a clean sandbox between tests (no restart). Admin key only. The seeded
rows are the baseline: a start on an empty database (or on a copy of the seed cache) keeps the
rows its seed left, read once the service's lifespan has seeded and before it serves anything
(a few ms); a start on a database that already held rows does not know them, so its first reset
empties the tables and runs the service's seed (up to a few hundred ms), then keeps what that
left. A reset with a baseline puts its rows back with one bulk insert per table. Either way the
service then drops what its runtime keeps in memory about the old rows (`forget`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import MetaData, Table, or_, select

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
class Baseline:
    """The service's reset tables and, once known, their freshly seeded rows."""

    tables: list[Table] = field(default_factory=list)
    rows: Rows | None = None
    source: str = ""  # where `rows` came from: "start" or "first reset"
    from_start: bool = False  # this start seeds an empty database: keep what it leaves

    @classmethod
    def of(cls, metadata: MetaData, hooks: ResetHooks) -> Baseline:
        return cls(tables=[t for t in metadata.sorted_tables if t.name not in hooks.keep])

    def start(self, *, from_start: bool) -> None:
        """A new start of the app: rows an earlier run of its lifespan kept are not this one's."""
        self.rows, self.source, self.from_start = None, "", from_start

    def is_empty(self, database: Database) -> bool:
        """No row in any reset table (one query): what a start that seeds will seed from."""
        if not self.tables:
            return True
        with database.engine.connect() as connection:
            query = select(or_(*(table.select().exists() for table in self.tables)))
            return not connection.execute(query).scalar()

    def keep_seeded(self, database: Database) -> None:
        """At start, once every lifespan has run and before serving: the rows become the baseline
        (a service that seeded nothing, its seed switched off, leaves none to keep)."""
        rows = capture(database, self.tables)
        if any(rows.values()):
            self.rows, self.source = rows, "start"


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


def reset_router(baseline: Baseline, hooks: ResetHooks) -> APIRouter:
    router = APIRouter(tags=["admin"])

    @router.post(
        "/admin/reset",
        summary="Back to the freshly seeded state (admin key only)",
        description="Tables kept as they are: " + (", ".join(sorted(hooks.keep)) or "none") + ".",
    )
    async def reset(request: Request, _: AdminDep) -> dict[str, Any]:
        app: FastAPI = request.app
        database = kernel_state(app).database
        started = time.perf_counter()
        seeded = baseline.rows is None
        if baseline.rows is None:
            await run_in_threadpool(truncate, database, baseline.tables)
            await hooks.seed(app)
            baseline.rows = await run_in_threadpool(capture, database, baseline.tables)
            baseline.source = "first reset"
        else:
            await run_in_threadpool(truncate, database, baseline.tables, baseline.rows)
        await hooks.forget(app)
        return {
            "service": kernel_state(app).service.name,
            "tables": len(baseline.tables),
            "kept": sorted(hooks.keep),
            "seeded": seeded,  # True: through the seed code; False: the baseline's rows restored
            "baseline": baseline.source,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }

    return router
