"""`async=true` data value imports: a job per request, its notifications and its summary at
DHIS2's `/api/system/tasks` and `/api/system/taskSummaries`.

The import runs in the process that accepted it; the job is a row of `value_set_job`, so every
replica answers for it. A job still running when its process stopped is reported failed at the
next start on SQLite (one process); on PostgreSQL another replica cannot tell a stopped process
from a slow one, so such a job stays running (the values it committed stay imported)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.models import ValueSetJob
from services.sectoral_platform.aggregate.summary import ImportSummary
from services.sectoral_platform.base import table_of
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import not_found

log = logging.getLogger("dpi.sectoral_platform.aggregate")
JOB_TYPE = "DATAVALUE_IMPORT"
JOBS = table_of(ValueSetJob)
STOPPED = "the service stopped before the import ended"


@dataclass(slots=True)
class Job:
    uid: str
    user: str
    created: str
    finished: str | None = None
    failed: str | None = None
    summary: dict[str, Any] | None = None

    @property
    def completed(self) -> bool:
        return self.finished is not None

    def notifications(self) -> list[dict[str, Any]]:
        items = [self._note("Import started", False, "INFO", self.created)]
        if self.finished is not None:
            message, level = (
                (f"Import failed: {self.failed}", "ERROR")
                if self.failed
                else ("Import done", "INFO")
            )
            items.insert(0, self._note(message, True, level, self.finished))
        return items

    def _note(self, message: str, completed: bool, level: str, time: str) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "id": self.uid,
            "category": JOB_TYPE,
            "level": level,
            "time": time,
            "message": message,
            "completed": completed,
        }


@dataclass(slots=True)
class ValueSetJobs:
    engine: Engine
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def settle_stopped(self) -> None:
        """At start on SQLite: the jobs of the stopped process will not complete."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.finished.is_(None))
                .values(finished=dhis2_timestamp(), failed=STOPPED)
            )

    async def start(self, user: str, work: Callable[[], ImportSummary]) -> dict[str, Any]:
        job = Job(generate_uid(), user, dhis2_timestamp())
        await run_in_threadpool(self._insert, job)
        task = asyncio.get_running_loop().create_task(self._run(job, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {
            "responseType": "JobConfigurationWebMessageResponse",
            "name": JOB_TYPE,
            "id": job.uid,
            "created": job.created,
            "jobType": JOB_TYPE,
            "relativeNotifierEndpoint": f"/api/system/tasks/{JOB_TYPE}/{job.uid}",
        }

    def _insert(self, job: Job) -> None:
        with self.engine.begin() as conn:
            conn.execute(JOBS.insert().values(uid=job.uid, user=job.user, created=job.created))

    async def _run(self, job: Job, work: Callable[[], ImportSummary]) -> None:
        try:
            job.summary = (await run_in_threadpool(work)).to_json()
        except Exception as exc:  # the job reports it; the server carries on
            log.exception("data value import job %s failed", job.uid)
            job.failed = type(exc).__name__
        job.finished = dhis2_timestamp()
        try:
            await run_in_threadpool(self._finish, job)
        except Exception:
            log.exception("the outcome of data value import job %s could not be stored", job.uid)

    def _finish(self, job: Job) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.uid == job.uid)
                .values(finished=job.finished, failed=job.failed, summary=job.summary)
            )

    def mine(self, uid: str, user: str, superuser: bool) -> Job:
        with self.engine.connect() as conn:
            row = conn.execute(select(JOBS).where(JOBS.c.uid == uid)).first()
        if row is None or not (superuser or row.user == user):
            raise not_found(f"Job `{uid}` does not exist", None)
        return Job(row.uid, row.user, row.created, row.finished, row.failed, row.summary)
