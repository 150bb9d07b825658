"""Kill -9 of the health platform replica running an `async=true` data value import: the other
replica, asked for the job once the killed one's heartbeat is older than the lease, reports it
failed in DHIS2's task shape, so a client polling the job sees it end (before, it stayed
`running` forever). Two real processes on one scratch PostgreSQL database."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.common import free_port, start_uvicorn, stop
from services.sectoral_platform.aggregate.jobs import ORPHANED
from tests.conftest import SHARED_POSTGRES, scratch_database
from tests.sectoral_platform.conftest import ADMIN, COC
from tests.support.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.replicas, SHARED_POSTGRES]
LEASE = 3.0  # seconds
VALUES = 150_000  # an import of several seconds, even on a quiet machine


def start_replica(url: str, data_dir: Path, started: list[subprocess.Popen[bytes]]) -> str:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    prefix = "DPI_SECTORAL_PLATFORM_"
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        f"{prefix}DATABASE_URL": url,
        f"{prefix}VALUE_SET_JOB_LEASE_SECONDS": str(LEASE),
        f"{prefix}FACILITY_SYNC_ON_START": "false",
        f"{prefix}SUBSCRIBE_CIVIL_EVENTS": "false",
        f"{prefix}AGGREGATION_INTERVAL_SECONDS": "0",
        f"{prefix}DRAIN_INTERVAL_SECONDS": "0",
    }
    log = data_dir / "sectoral_platform.log"
    started.append(start_uvicorn("services.sectoral_platform.main:app", port, env, log=log))
    return f"http://127.0.0.1:{port}"


def big_csv(client: httpx.Client) -> bytes:
    elements = client.get(
        "/api/dataElements",
        params=[("filter", "valueType:like:INTEGER"), ("filter", "domainType:eq:AGGREGATE"),
                ("fields", "id"), ("paging", "false")],
    ).json()["dataElements"]  # fmt: skip
    units = client.get(
        "/api/organisationUnits", params={"level": 4, "fields": "id", "paging": "false"}
    ).json()["organisationUnits"]
    lines = ["dataelement,period,orgunit,categoryoptioncombo,attributeoptioncombo,value"]
    months = [f"{year}{month:02d}" for year in range(1700, 2026) for month in range(1, 13)]
    for unit in units:
        for month in months:
            for element in elements:
                lines.append(f"{element['id']},{month},{unit['id']},{COC},,{len(lines) % 97}")
                if len(lines) > VALUES:
                    return ("\n".join(lines) + "\n").encode()
    raise AssertionError(f"only {len(lines) - 1} values from the seeded metadata")


def notes(client: httpx.Client, job: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.get(job["relativeNotifierEndpoint"])
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_a_job_of_a_killed_replica_ends_failed(tmp_path: Path) -> None:
    started: list[subprocess.Popen[bytes]] = []
    with scratch_database("job_kill9", tmp_path / "unused.db") as url:
        try:
            first = start_replica(url, tmp_path / "a", started)
            second = start_replica(url, tmp_path / "b", started)
            with (
                httpx.Client(base_url=first, auth=ADMIN, timeout=60) as one,
                httpx.Client(base_url=second, auth=ADMIN, timeout=10) as two,
            ):
                accepted = one.post(
                    "/api/dataValueSets",
                    content=big_csv(one),
                    headers={"Content-Type": "application/csv"},
                    params={"async": "true"},
                )
                assert accepted.status_code == 200, accepted.text
                job = accepted.json()["response"]
                assert not notes(two, job)[0]["completed"], "the import ended before the kill"
                started[0].send_signal(signal.SIGKILL)
                started[0].wait(timeout=10)
                killed = time.monotonic()
                assert not notes(two, job)[0]["completed"]  # its last heartbeat is still fresh
                eventually(lambda: notes(two, job)[0]["completed"], within=LEASE + 30,
                           what="the killed replica's job reported ended")  # fmt: skip
                seen = notes(two, job)
                # not before the lease ran out (the last beat came at most a third of it before)
                assert time.monotonic() - killed >= LEASE / 2
                assert seen[0]["level"] == "ERROR"
                assert seen[0]["message"] == f"Import failed: {ORPHANED}"
                assert seen[0]["category"] == "DATAVALUE_IMPORT" and seen[0]["id"] == job["id"]
                summary = two.get(f"/api/system/taskSummaries/DATAVALUE_IMPORT/{job['id']}")
                assert summary.status_code == 404  # no summary: the import did not end
        finally:
            for process in started:
                if process.poll() is None:
                    stop(process)
