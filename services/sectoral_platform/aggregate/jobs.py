"""`async=true` data value imports: a job per request, its notifications and its summary at
DHIS2's `/api/system/tasks` and `/api/system/taskSummaries`. Jobs live in memory: a restart
forgets them (the imports they ran stay imported)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.summary import ImportSummary
from services.sectoral_platform.dhis2.uid import generate_uid
from services.sectoral_platform.errors import not_found

log = logging.getLogger("dpi.sectoral_platform.aggregate")
JOB_TYPE = "DATAVALUE_IMPORT"


@dataclass(slots=True)
class Job:
    uid: str
    user: str
    created: str
    completed: bool = False
    failed: str | None = None
    summary: dict[str, Any] | None = None

    def notifications(self) -> list[dict[str, Any]]:
        items = [self._note("Import started", False, "INFO", self.created)]
        if self.completed:
            message, level = (
                (f"Import failed: {self.failed}", "ERROR")
                if self.failed
                else ("Import done", "INFO")
            )
            items.insert(0, self._note(message, True, level, dhis2_timestamp()))
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
    jobs: dict[str, Job] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def start(self, user: str, work: Callable[[], ImportSummary]) -> dict[str, Any]:
        job = Job(generate_uid(), user, dhis2_timestamp())
        self.jobs[job.uid] = job
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

    async def _run(self, job: Job, work: Callable[[], ImportSummary]) -> None:
        try:
            job.summary = (await run_in_threadpool(work)).to_json()
        except Exception as exc:  # the job reports it; the server carries on
            log.exception("data value import job %s failed", job.uid)
            job.failed = type(exc).__name__
        job.completed = True

    def mine(self, uid: str, user: str, superuser: bool) -> Job:
        job = self.jobs.get(uid)
        if job is None or not (superuser or job.user == user):
            raise not_found(f"Job `{uid}` does not exist", None)
        return job
