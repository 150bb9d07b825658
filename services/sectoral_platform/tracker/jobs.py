"""Async tracker imports: the accepted payload is stored first, then a worker runs it.

Replicas on one PostgreSQL database run jobs under one claim (`StreamClaim`): one runner at a
time keeps them in order, and a job is never run by two replicas. A replica that finds the claim
taken looks again every `CLAIM_RETRY` seconds while it may have work, so a job it accepted just
as the holder finished is not left waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from services.kernel.claims import StreamClaim
from services.kernel.time import dhis2_timestamp as timestamp
from services.sectoral_platform.base import table_of
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.tracker.bundle import ImportParams, flatten
from services.sectoral_platform.tracker.importer import import_bundle
from services.sectoral_platform.tracker.models import TrackerJob

log = logging.getLogger("dpi.sectoral_platform.tracker")
JOBS = table_of(TrackerJob)
CLAIM_RETRY = 1.0  # seconds
Obj = dict[str, Any]


class JobRunner:
    """A worker: runs queued jobs in order, one at a time; jobs left by a stopped process run
    on start."""

    name = "tracker-jobs"

    def __init__(self, engine: Engine, store: MetadataStore) -> None:
        self.engine = engine
        self.store = store
        self.claim = StreamClaim(engine, "sectoral_platform-tracker-jobs")
        self._claimed = True
        self._wake = asyncio.Event()

    def submit(
        self, *, body: Obj, params: ImportParams, user: str, capture: list[str] | None
    ) -> str:
        uid = generate_uid()
        with self.engine.begin() as conn:
            conn.execute(
                JOBS.insert().values(
                    uid=uid,
                    status="QUEUED",
                    created=timestamp(),
                    user=user,
                    params={
                        **params.as_query(),
                        "capture": capture,
                        "username": params.user,
                        "cascade": list(params.cascade),
                    },
                    payload=body,
                )
            )
        return uid

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self.run_pending()
            timeout = None if self._claimed else CLAIM_RETRY  # another replica held the claim
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def run_pending(self) -> int:
        """One step: run every queued job (none while another replica runs them); how many."""
        self._claimed = await run_in_threadpool(self.claim.acquire)
        if not self._claimed:
            return 0
        ran = 0
        try:
            while (job := await run_in_threadpool(self._next)) is not None:
                await run_in_threadpool(self._run, job)
                ran += 1
        finally:
            await run_in_threadpool(self.claim.release)
        return ran

    def _next(self) -> Obj | None:
        query = select(JOBS).where(JOBS.c.status != "COMPLETED").order_by(JOBS.c.created)
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        return dict(row) if row else None

    def _run(self, job: Obj) -> None:
        raw = dict(job["params"])
        capture = raw.pop("capture", None)
        username = raw.pop("username", "system")
        cascade = raw.pop("cascade", [True, True])
        try:
            params = ImportParams.parse(raw)
            params.user, params.cascade = username, (bool(cascade[0]), bool(cascade[1]))
            report = import_bundle(
                engine=self.engine,
                store=self.store,
                bundle=flatten(job["payload"]),
                params=params,
                capture=capture,
            )
        except Exception as exc:  # a job must finish with a report whatever went wrong
            log.exception("tracker job %s failed", job["uid"])
            report = {
                "status": "ERROR",
                "message": str(exc),
                "stats": {},
                "bundleReport": None,
                "validationReport": {"errorReports": [], "warningReports": []},
            }
        with self.engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.uid == job["uid"])
                .values(status="COMPLETED", finished=timestamp(), report=report, payload=None)
            )

    def job(self, uid: str) -> Obj | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(JOBS).where(JOBS.c.uid == uid)).mappings().first()
        return dict(row) if row else None


def job_log(job: Obj) -> list[Obj]:
    """The job's notifications, newest first, as DHIS2's job log lists them."""
    entries = [
        {
            "uid": f"{job['uid']}-0",
            "level": "INFO",
            "category": "TRACKER_IMPORT_JOB",
            "time": job["created"],
            "message": "Tracker import started",
            "completed": False,
            "id": job["uid"],
        },
    ]
    if job["status"] == "COMPLETED":
        entries.insert(
            0,
            {
                "uid": f"{job['uid']}-1",
                "level": "INFO",
                "category": "TRACKER_IMPORT_JOB",
                "time": job["finished"],
                "message": "Import complete with status "
                f"{(job['report'] or {}).get('status', 'ERROR')}.",
                "completed": True,
                "id": job["uid"],
            },
        )
    return entries
