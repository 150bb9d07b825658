"""Sectoral platform: event analytics aggregate latency as the events grow from 10^5 to 10^6.

Query: `/api/analytics/events/aggregate/{program}` counting the Birth stage's events by month (12
months) and district (`LEVEL-3`), answered from the month counts the event table's triggers keep
current. Targets: median < 300 ms at 10^6 events, and at most 2x the 10^5 median. For contrast,
the same count with a data element filter (which reads the events themselves) is timed at 10^5.

Run: `.venv/bin/python -m bench.event_analytics` (about a minute). Loopback only; starts and
stops its own uvicorn process on a free port with a temporary data directory. Events are
bulk-inserted into the service's SQLite file (the rows the tracker import writes; the triggers
fire on every row), so the run stays within a minute or two.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import free_port, start_uvicorn, stop

AUTH = ("admin", "district")
PROGRAM = "IpHINAT79UW"
BIRTH = "A03MvHHogjR"
IMMUNISATION = "ZzYYXq4fJie"
WEIGHT = "UXz7xuGCEhU"
FACILITIES = 1_000
TARGET = int(os.environ.get("DPI_BENCH_EVENTS", "1000000"))
MONTHS = ";".join(f"2024{m:02d}" for m in range(1, 13))


def _units(client: httpx.Client) -> dict[str, str]:
    found = client.get(
        "/api/organisationUnits", params={"level": 4, "fields": "id,path", "paging": "false"}
    ).json()["organisationUnits"]
    return {u["id"]: u["path"] for u in found}


def _insert(db: Path, units: dict[str, str], start: int, count: int) -> int:
    """`count` events numbered from `start`; returns how many are Birth events."""
    rng = random.Random(start)
    facilities = sorted(units)
    stamp = "2026-01-01T00:00:00.000"
    births = 0
    rows = []
    for n in range(start, start + count):
        stage = BIRTH if n % 2 == 0 else IMMUNISATION
        births += stage == BIRTH
        ou = facilities[rng.randrange(len(facilities))]
        day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00.000"
        values = json.dumps([{"dataElement": WEIGHT, "value": str(rng.randint(1500, 4500))}])
        rows.append(
            (f"E{n:010d}", PROGRAM, stage, ou, units[ou], "COMPLETED", day, values, stamp, stamp)
        )
    conn = sqlite3.connect(db, timeout=60)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.executemany(
            "INSERT INTO event (uid, enrollment, te, program, program_stage, org_unit, ou_path,"
            " status, occurred_at, scheduled_at, data_values, created, updated)"
            " VALUES (?, NULL, NULL, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            rows,
        )
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return births


def _time(client: httpx.Client, params: list[tuple[str, Any]], repeat: int) -> tuple[float, float]:
    """(median ms, total of the values) of the aggregate request."""
    times = []
    total = 0.0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(f"/api/analytics/events/aggregate/{PROGRAM}", params=params)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"event analytics failed: {response.text[:300]}")
        total = sum(float(row[-1]) for row in response.json()["rows"])
    return statistics.median(times), total


def main() -> None:
    began = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="dpi-bench-ev-"))
    port = free_port()
    env = {
        "DPI_SECTORAL_PLATFORM_DATABASE_URL": f"sqlite:///{data_dir / 'sp.db'}",
        "DPI_SECTORAL_PLATFORM_FACILITY_SIZE": "national",
        "DPI_SECTORAL_PLATFORM_NATIONAL_FACILITIES": str(FACILITIES),
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
    }
    process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=90)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=300)
        units = _units(client)
        counted: list[tuple[str, Any]] = [
            ("stage", BIRTH), ("dimension", f"pe:{MONTHS}"), ("dimension", "ou:LEVEL-3"),
        ]  # fmt: skip
        filtered = [*counted, ("filter", f"{WEIGHT}:GT:3000")]
        print(f"{len(units):,} facilities; counts of Birth events by month x district")
        print(f"{'events':>10} {'median':>10}  total ok")
        medians: dict[int, float] = {}
        births = 0
        stored = 0
        for size in (TARGET // 10, TARGET):
            births += _insert(data_dir / "sp.db", units, stored, size - stored)
            stored = size
            median, total = _time(client, counted, 11)
            medians[size] = median
            ok = "yes" if total == births else f"NO ({total} != {births})"
            print(f"{size:>10,} {median:>7.1f} ms  {ok}", flush=True)
            if size == TARGET // 10:
                scan, _ = _time(client, filtered, 3)
                print(f"{'':>10} {scan:>7.1f} ms  (same count with a weight filter: reads events)")
        small, large = medians[TARGET // 10], medians[TARGET]
        verdict: dict[str, Any] = {
            "< 300 ms": "met" if large < 300 else "MISSED",
            "growth <= 2x": "met" if large <= 2 * small else "MISSED",
        }
        print(
            f"growth {TARGET // 10:,} -> {TARGET:,} events: {large / small:.2f}x latency; targets: "
            + ", ".join(f"{k} {v}" for k, v in verdict.items())
        )
        print(f"run took {time.monotonic() - began:.0f} s")
        client.close()
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
