"""`async=true` data value imports: a job per request, its notifications and its summary at
DHIS2's `/api/system/tasks` and `/api/system/taskSummaries`.

The import runs in the process that accepted it; the job is a row of `value_set_job`, so every
replica answers for it. The row names its owner (this process) and carries a heartbeat the owner
renews every third of the lease while the import runs. A job whose heartbeat is older than the
lease has lost its process (killed, or its host gone): whichever replica is asked for it (or
starts) reports it failed, so a client polling its status sees it end; what it committed stays
imported. On SQLite (one process) every job left running is reported failed at the next start.
The owner's own outcome, should it come after all, does not overwrite that failure."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from services.kernel.ids import random_hex
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
ORPHANED = "the replica running the import stopped (no heartbeat) before the import ended"
LEASE = 30.0  # seconds without a heartbeat after which a running job's process is taken as gone


def process_name() -> str:
    """This process among the replicas: host, pid and a random part (a pid can come again)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{random_hex(4)}"


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
    lease: float = LEASE
    owner: str = field(default_factory=process_name)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def settle_stopped(self) -> None:
        """At start: on SQLite the jobs of the stopped process will not complete; on PostgreSQL
        those whose heartbeat ran out (another replica's running jobs go on)."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.begin() as conn:
                conn.execute(
                    update(JOBS)
                    .where(JOBS.c.finished.is_(None))
                    .values(finished=dhis2_timestamp(), failed=STOPPED)
                )
            return
        self._settle_orphaned(None)

    def _settle_orphaned(self, uid: str | None) -> None:
        """Report failed the running jobs (`uid`'s, or all) whose owner stopped beating."""
        query = update(JOBS).where(
            JOBS.c.finished.is_(None), JOBS.c.heartbeat < time.time() - self.lease
        )
        if uid is not None:
            query = query.where(JOBS.c.uid == uid)
        with self.engine.begin() as conn:
            settled = conn.execute(query.values(finished=dhis2_timestamp(), failed=ORPHANED))
        if settled.rowcount:
            log.warning("%d data value import job(s) without a heartbeat reported failed",
                        settled.rowcount)  # fmt: skip

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
            conn.execute(
                JOBS.insert().values(
                    uid=job.uid, user=job.user, created=job.created,
                    owner=self.owner, heartbeat=time.time(),
                )
            )  # fmt: skip

    def _beat(self, uid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(JOBS)
                .where(JOBS.c.uid == uid, JOBS.c.owner == self.owner, JOBS.c.finished.is_(None))
                .values(heartbeat=time.time())
            )

    async def _beating(self, uid: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await run_in_threadpool(self._beat, uid)
            except Exception:  # a database outage: the next beat may still come in time
                log.warning("no heartbeat for data value import job %s this time", uid)

    async def _run(self, job: Job, work: Callable[[], ImportSummary]) -> None:
        beating = asyncio.get_running_loop().create_task(self._beating(job.uid))
        try:
            job.summary = (await run_in_threadpool(work)).to_json()
        except Exception as exc:  # the job reports it; the server carries on
            log.exception("data value import job %s failed", job.uid)
            job.failed = type(exc).__name__
        finally:
            beating.cancel()
        job.finished = dhis2_timestamp()
        try:
            await run_in_threadpool(self._finish, job)
        except Exception:
            log.exception("the outcome of data value import job %s could not be stored", job.uid)

    def _finish(self, job: Job) -> None:
        with self.engine.begin() as conn:
            stored = conn.execute(
                update(JOBS)
                .where(JOBS.c.uid == job.uid, JOBS.c.finished.is_(None))
                .values(finished=job.finished, failed=job.failed, summary=job.summary)
            )
        if not stored.rowcount:  # its heartbeat ran out meanwhile: reported failed, and stays so
            log.warning("data value import job %s ended after it was reported failed", job.uid)

    def mine(self, uid: str, user: str, superuser: bool) -> Job:
        with self.engine.connect() as conn:
            row = conn.execute(select(JOBS).where(JOBS.c.uid == uid)).first()
        if row is not None and row.finished is None and row.heartbeat < time.time() - self.lease:
            self._settle_orphaned(uid)
            with self.engine.connect() as conn:
                row = conn.execute(select(JOBS).where(JOBS.c.uid == uid)).first()
        if row is None or not (superuser or row.user == user):
            raise not_found(f"Job `{uid}` does not exist", None)
        return Job(row.uid, row.user, row.created, row.finished, row.failed, row.summary)
