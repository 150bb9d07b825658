"""`async=true` import jobs are rows: a job left running by a stopped process is reported
failed at the next start on SQLite (one process); on PostgreSQL once its owner's heartbeat is
older than the lease, by whichever replica is asked (its kill -9: `test_value_set_job_kill9.py`)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from services.kernel.db import Database
from services.sectoral_platform.aggregate.jobs import JOBS, ORPHANED, STOPPED, Job, ValueSetJobs
from services.sectoral_platform.base import Base
from services.sectoral_platform.errors import Dhis2Error
from services.sectoral_platform.settings import SectoralSettings


def test_a_job_of_a_stopped_process(settings: SectoralSettings) -> None:
    database = Database(settings.database(), Base.metadata)
    database.create_all()
    try:
        jobs = ValueSetJobs(database.engine)
        jobs._insert(Job("aBcDeFgHiJk", "user0000001", "2026-01-01T00:00:00.000"))
        jobs.settle_stopped()
        job = jobs.mine("aBcDeFgHiJk", "user0000001", superuser=False)
        if database.is_sqlite:
            assert job.completed and job.failed == STOPPED
            assert job.notifications()[0]["message"] == f"Import failed: {STOPPED}"
        else:
            assert not job.completed
        with pytest.raises(Dhis2Error, match="does not exist"):
            jobs.mine("aBcDeFgHiJk", "someoneelse", superuser=False)
    finally:
        database.dispose()


def test_a_job_whose_heartbeat_ran_out(settings: SectoralSettings) -> None:
    database = Database(settings.database(), Base.metadata)
    database.create_all()
    try:
        gone, other = ValueSetJobs(database.engine, lease=60), ValueSetJobs(database.engine)
        gone._insert(Job("aBcDeFgHiJ1", "user0000001", "2026-01-01T00:00:00.000"))
        gone._insert(Job("aBcDeFgHiJ2", "user0000001", "2026-01-01T00:00:00.000"))
        assert not other.mine("aBcDeFgHiJ1", "user0000001", superuser=False).completed
        with database.engine.begin() as conn:  # its owner's last beat, 61 s ago
            conn.execute(update(JOBS).values(heartbeat=JOBS.c.heartbeat - 61))
        job = other.mine("aBcDeFgHiJ1", "user0000001", superuser=False)
        assert job.completed and job.failed == ORPHANED and job.summary is None
        assert job.notifications()[0]["level"] == "ERROR"
        other.settle_stopped()  # a start: the other one too
        assert other.mine("aBcDeFgHiJ2", "user0000001", superuser=True).failed in (
            ORPHANED, STOPPED)  # fmt: skip
        job2 = Job("aBcDeFgHiJ1", "user0000001", job.created, "2026-01-01T00:00:09.000")
        gone._finish(job2)  # the owner ends after all: the failure stands
        assert other.mine("aBcDeFgHiJ1", "user0000001", superuser=False).failed == ORPHANED
    finally:
        database.dispose()
