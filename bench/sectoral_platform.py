"""Sectoral platform: data value set import rate and analytics latency as the data grows.

Import: `POST /api/dataValueSets` in batches of 10,000 values (target >= 20,000 values/s).
Analytics: national query, 12 months of one year by month, for every numeric health data element,
at 10^4, 10^5 and 10^6 stored values, and at 10^6 split by `co` as well (target: median
< 200 ms at 10^6, with and without `co`). Each figure is reported
next to the same server's `/healthz` floor measured in the same run.

Run: `.venv/bin/python -m bench.sectoral_platform` (about 2-3 minutes). CSV and ADX imports
(2 batches of 10,000 each) follow the JSON ones; a streamed CSV export of everything stored
ends the run (target >= 100,000 values/s, the server's peak memory flat); before it, all the
values again, for the next year, as one streamed CSV request, and for the year after as one
streamed JSON request (target >= 20,000 values/s, the server's RSS, sampled every 50 ms, growing
< 100 MiB). Loopback only; starts and
stops its own uvicorn process on a free port with a temporary data directory. The first 10^5
values go through the HTTP import; the rest up to 10^6 are bulk-inserted into the service's
SQLite file (the same rows the import would write, and the district-level rollup recomputed from
them), so the run stays within minutes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from sqlalchemy import create_engine

from bench import sectoral_formats as formats
from bench.common import free_port, start_uvicorn, stop
from services.sectoral_platform.aggregate.rollup import rebuild

AUTH = ("admin", "district")
BATCH = 10_000
HTTP_BATCHES = 10  # 10^5 values through the API
# a shorter run on a busy machine: DPI_BENCH_SP_VALUES=200000 (at least 140,000)
TARGET = int(os.environ.get("DPI_BENCH_SP_VALUES", "1000000"))
FACILITIES = 10_000
YEAR = 2024
MONTHS = [f"{YEAR}{m:02d}" for m in range(1, 13)]
HEALTHZ_REQUESTS = 2_000
CONCURRENCY = 8
COC = "HllvX50cXC0"
DEADLINE = 170.0


async def _healthz_floor(base: str) -> tuple[float, float]:
    """(requests/s, median latency ms) of `/healthz` with CONCURRENCY loopback clients."""
    latencies: list[float] = []
    queue = iter(range(HEALTHZ_REQUESTS))

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in queue:
            started = time.perf_counter()
            async with session.get(f"{base}/healthz") as response:
                await response.read()
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return HEALTHZ_REQUESTS / elapsed, statistics.median(latencies) * 1000


def _rows(metadata: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """(data element, period, facility, value): facility-major, deterministic values."""
    elements, facilities = metadata["elements"], metadata["facilities"]
    rows = []
    for f_index, facility in enumerate(facilities):
        for m_index, month in enumerate(MONTHS):
            for d_index, element in enumerate(elements):
                rows.append(
                    (element, month, facility, 1 + (f_index * 7 + m_index * 3 + d_index) % 97)
                )
                if len(rows) >= TARGET:
                    return rows
    return rows


def _metadata(client: httpx.Client) -> dict[str, Any]:
    elements = client.get(
        "/api/dataElements",
        # summed aggregate elements only: a tracker element averages (its total differs)
        params=[
            ("filter", "valueType:like:INTEGER"),
            ("filter", "domainType:eq:AGGREGATE"),
            ("filter", "aggregationType:eq:SUM"),
            ("fields", "id"),
            ("paging", "false"),
        ],
    ).json()["dataElements"]
    units = client.get(
        "/api/organisationUnits", params={"level": 4, "fields": "id,path", "paging": "false"}
    ).json()["organisationUnits"]
    root = client.get("/api/organisationUnits", params={"level": 1, "fields": "id"}).json()
    return {
        "elements": sorted(e["id"] for e in elements),
        "facilities": sorted(u["id"] for u in units),
        "paths": {u["id"]: u["path"] for u in units},
        "root": root["organisationUnits"][0]["id"],
    }


def value_set_body(rows: list[tuple[str, str, str, int]]) -> bytes:
    """`rows` (element, period, org unit, value) as one JSON data value set."""
    values = [
        {
            "dataElement": de,
            "period": pe,
            "orgUnit": ou,
            "categoryOptionCombo": COC,
            "value": str(v),
        }
        for de, pe, ou, v in rows
    ]
    return orjson.dumps({"dataValues": values})


def _import(client: httpx.Client, rows: list[tuple[str, str, str, int]]) -> float:
    """Values per second over the HTTP import of `rows`, batch by batch."""
    elapsed = 0.0
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        body = value_set_body(chunk)
        began = time.perf_counter()
        response = client.post(
            "/api/dataValueSets", content=body, headers={"Content-Type": "application/json"}
        )
        elapsed += time.perf_counter() - began
        summary = response.json()["response"]
        if response.status_code != 200 or summary["importCount"]["imported"] != len(chunk):
            raise RuntimeError(f"import failed: {response.status_code} {str(summary)[:500]}")
    return len(rows) / elapsed


def _bulk_insert(db: Path, rows: list[tuple[str, str, str, int]], paths: dict[str, str]) -> None:
    """The rows the import would write, straight into the service's SQLite file."""
    stamp = "2026-01-01T00:00:00.000"
    bounds = {}
    for month in MONTHS:
        year, mon = int(month[:4]), int(month[4:])
        end = (31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mon - 1]
        bounds[month] = (f"{year}-{mon:02d}-01", f"{year}-{mon:02d}-{end:02d}")
    conn = sqlite3.connect(db, timeout=60)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for start in range(0, len(rows), 100_000):
            conn.executemany(
                "INSERT INTO data_value (de, pe, ou, co, ao, value, comment, followup, ou_path,"
                " pe_start, pe_end, num, stored_by, created, last_updated)"
                " VALUES (?, ?, ?, ?, ?, ?, NULL, 0, ?, ?, ?, ?, 'bench', ?, ?)",
                [
                    (de, pe, ou, COC, COC, str(v), paths[ou], *bounds[pe], float(v), stamp, stamp)
                    for de, pe, ou, v in rows[start : start + 100_000]
                ],
            )
            conn.commit()
        conn.commit()
    finally:
        conn.close()
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as connection:
        rebuild(connection)  # what the import keeps current, row by row, in its transaction
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()


def _analytics(
    client: httpx.Client, metadata: dict[str, Any], repeat: int, co: bool = False
) -> tuple[float, float, float]:
    """(median ms, p90 ms, national total) of the year-by-month national query (with `co`: split
    by category option combo as well)."""
    params: list[tuple[str, Any]] = [
        ("dimension", "dx:" + ";".join(metadata["elements"])),
        ("dimension", "pe:" + ";".join(MONTHS)),
        ("filter", f"ou:{metadata['root']}"),
        *([("dimension", "co")] if co else []),
    ]
    times = []
    total = 0.0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get("/api/analytics", params=params)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"analytics failed: {response.text[:300]}")
        total = sum(float(row[-1]) for row in response.json()["rows"])
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], total


def main() -> None:
    began = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="dpi-bench-sp-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DPI_SECTORAL_PLATFORM_DATABASE_URL": f"sqlite:///{data_dir / 'sp.db'}",
        "DPI_SECTORAL_PLATFORM_FACILITY_SIZE": "national",
        "DPI_SECTORAL_PLATFORM_NATIONAL_FACILITIES": str(FACILITIES),
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
    }
    process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=90)
    try:
        client = httpx.Client(base_url=base, auth=AUTH, timeout=120)
        metadata = _metadata(client)
        rows = _rows(metadata)
        rps, healthz_ms = asyncio.run(_healthz_floor(base))
        print(
            f"healthz floor: {rps:,.0f} req/s, median {healthz_ms:.2f} ms "
            f"({CONCURRENCY} concurrent clients, {HEALTHZ_REQUESTS} requests)"
        )
        print(
            f"{'stored values':>14} {'analytics median':>17} {'p90':>9} {'x healthz':>10}  total ok"
        )
        expected = 0.0

        def report(count: int, co: bool = False) -> None:
            nonlocal expected
            expected = float(sum(r[3] for r in rows[:count]))
            median, p90, total = _analytics(client, metadata, 15 if count < TARGET else 11, co)
            ok = "yes" if abs(total - expected) < 0.5 else f"NO ({total} != {expected})"
            ratio = median / healthz_ms
            print(
                f"{count:>14,} {median:>14.1f} ms {p90:>6.1f} ms {ratio:>9.1f}x  {ok}"
                + ("  (dimension=co)" if co else ""),
                flush=True,
            )

        rate = _import(client, rows[:BATCH])
        report(BATCH)
        rate_rest = _import(client, rows[BATCH : BATCH * HTTP_BATCHES])
        import_rate = (BATCH * HTTP_BATCHES) / (
            BATCH / rate + (BATCH * (HTTP_BATCHES - 1)) / rate_rest
        )
        report(BATCH * HTTP_BATCHES)
        done = BATCH * HTTP_BATCHES
        csv_rate = formats.import_rate(client, rows[done : done + 2 * BATCH], "csv", BATCH)
        adx_rate = formats.import_rate(
            client, rows[done + 2 * BATCH : done + 4 * BATCH], "adx", BATCH
        )
        _bulk_insert(data_dir / "sp.db", rows[done + 4 * BATCH :], metadata["paths"])
        report(len(rows))
        report(len(rows), co=True)
        in_rate, in_values, in_rss, in_growth = formats.streamed_import(
            client, process.pid, rows, YEAR + 1
        )
        js_rate, js_values, js_rss, js_growth = formats.streamed_import(
            client, process.pid, rows, YEAR + 2, "json"
        )
        out_rate, out_values, rss, growth = formats.export_rate(
            client, process.pid, metadata["elements"], metadata["root"], YEAR
        )
        print(
            f"import: {import_rate:,.0f} values/s over {HTTP_BATCHES} batches of {BATCH:,} "
            f"= {import_rate / rps:.1f} values per healthz request-time "
            f"(target >= 20,000 values/s)"
        )
        print(
            f"import as CSV: {csv_rate:,.0f} values/s ({csv_rate / rps:.1f} per healthz), "
            f"as ADX: {adx_rate:,.0f} values/s ({adx_rate / rps:.1f}), 2 batches of {BATCH:,} "
            "each (target >= 20,000 values/s)"
        )
        print(
            f"CSV export streamed: {out_rate:,.0f} values/s over {out_values:,} values "
            f"({out_rate / rps:.1f} per healthz); server RSS {rss} MiB before, peak grew "
            f"{growth} MiB (target >= 100,000 values/s, memory flat)"
        )
        print(
            f"CSV import streamed: {in_rate:,.0f} values/s over {in_values:,} values in one "
            f"request ({in_rate / rps:.1f} per healthz); server RSS {in_rss} MiB before, peak "
            f"grew {in_growth} MiB (target >= 20,000 values/s, growth < 100 MiB)"
        )
        print(
            f"JSON import streamed: {js_rate:,.0f} values/s over {js_values:,} values in one "
            f"request ({js_rate / rps:.1f} per healthz, {js_rate / in_rate:.2f}x CSV's); server "
            f"RSS {js_rss} MiB before, peak grew {js_growth} MiB (target >= 20,000 values/s, "
            "growth < 100 MiB)"
        )
        print(f"run took {time.monotonic() - began:.0f} s (limit {DEADLINE:.0f} s)")
        client.close()
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
