"""`async=true` import jobs are rows: a job left running by a stopped process is reported
failed at the next start on SQLite (one process); on PostgreSQL it is left to its replica."""

from __future__ import annotations

import pytest

from services.kernel.db import Database
from services.sectoral_platform.aggregate.jobs import STOPPED, Job, ValueSetJobs
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
