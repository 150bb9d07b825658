"""Sectoral platform: event analytics aggregate latency as the events grow from 10^5 to 10^6.

Query: `/api/analytics/events/aggregate/{program}` counting the Birth stage's events by month (12
months) and district (`LEVEL-3`), answered from the month counts the event table's triggers keep
current. Targets: median < 300 ms at 10^6 events, and at most 2x the 10^5 median. For contrast,
the same count with a data element filter (which reads the events themselves) is timed at 10^5.

Run: `.venv/bin/python -m bench.event_analytics` (a few minutes). Loopback only; starts and
stops two uvicorn processes on free ports with temporary data directories, one holding 10^5
events and one 10^6, and times them in turn (a load change on a shared machine hits both
alike). Events are bulk-inserted into each service's SQLite file (the rows the tracker import
writes; the triggers fire on every row).
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
from contextlib import ExitStack
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
REPEAT = 21


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


def _once(client: httpx.Client, params: list[tuple[str, Any]]) -> tuple[float, float]:
    """(ms, total of the values) of one aggregate request."""
    began = time.perf_counter()
    response = client.get(f"/api/analytics/events/aggregate/{PROGRAM}", params=params)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"event analytics failed: {response.text[:300]}")
    return elapsed, sum(float(row[-1]) for row in response.json()["rows"])


def _server(stack: ExitStack, root: Path, name: str) -> tuple[httpx.Client, Path]:
    data_dir = root / name
    db = data_dir / "sp.db"
    env = {
        "DPI_SECTORAL_PLATFORM_DATABASE_URL": f"sqlite:///{db}",
        "DPI_SECTORAL_PLATFORM_FACILITY_SIZE": "national",
        "DPI_SECTORAL_PLATFORM_NATIONAL_FACILITIES": str(FACILITIES),
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=90)
    stack.callback(stop, process)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=300)
    stack.callback(client.close)
    return client, db


def main() -> None:
    began = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="dpi-bench-ev-"))
    counted: list[tuple[str, Any]] = [
        ("stage", BIRTH), ("dimension", f"pe:{MONTHS}"), ("dimension", "ou:LEVEL-3"),
    ]  # fmt: skip
    sizes = (TARGET // 10, TARGET)
    try:
        with ExitStack() as stack:
            servers = [_server(stack, root, f"n{size}") for size in sizes]
            units = _units(servers[0][0])
            births = [
                _insert(db, units, 0, size) for (_, db), size in zip(servers, sizes, strict=True)
            ]
            print(f"{len(units):,} facilities; counts of Birth events by month x district")
            # the two sizes measured in turn, so a load change on the machine hits both alike
            times: list[list[float]] = [[], []]
            for _ in range(REPEAT):
                for k, (client, _) in enumerate(servers):
                    elapsed, total = _once(client, counted)
                    if total != births[k]:
                        raise RuntimeError(f"wrong total {total} != {births[k]}")
                    times[k].append(elapsed)
            small, large = (statistics.median(t) for t in times)
            print(f"{'events':>10} {'median':>10}  (totals checked against the inserted events)")
            for size, median in zip(sizes, (small, large), strict=True):
                print(f"{size:>10,} {median:>7.1f} ms")
            filtered = [*counted, ("filter", f"{WEIGHT}:GT:3000")]
            scan = statistics.median(_once(servers[0][0], filtered)[0] for _ in range(3))
            print(
                f"{sizes[0]:>10,} {scan:>7.1f} ms  (same count with a weight filter: reads events)"
            )
            verdict = {
                "< 300 ms": "met" if large < 300 else "MISSED",
                "growth <= 2x": "met" if large <= 2 * small else "MISSED",
            }
            print(
                f"growth {sizes[0]:,} -> {sizes[1]:,} events: {large / small:.2f}x latency; "
                "targets: " + ", ".join(f"{k} {v}" for k, v in verdict.items())
            )
            print(f"run took {time.monotonic() - began:.0f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
