"""Facility registry (FHIR mCSD) over the national list of 10,000 facilities.

Starts the registries service as a real uvicorn process on a free loopback port with a temp data
dir and `DPI_REGISTRIES_FACILITY_SIZE=national`, then measures in the same run:
1. the `/healthz` floor (requests/s at a fixed concurrency),
2. `Location?partof=<district>&_count=100` search (100 facilities a page) at the same concurrency,
3. a full sync: paging through every Location with `_count`, following `next` links,
4. an incremental sync after 10 admin changes (`_lastUpdated=gt<last seen>`),
5. the same changes as mCSD ITI-91 history (`Location/_history?_since=`; target < 30 ms).
Figures are ratios to the floor. Bounded in requests and time; stops by itself.
Run: `.venv/bin/python -m bench.registries` (PostgreSQL: set `DPI_REGISTRIES_DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import aiohttp

from bench.common import free_port, start_uvicorn, stop

CONCURRENCY = 8
FLOOR_REQUESTS = 3000
SEARCH_REQUESTS = 600
HISTORY_REQUESTS = 50
TIME_CAP = 25.0
ADMIN = {"X-DPI-Admin-Key": os.environ.get("DPI_ADMIN_KEY", "dpi-admin")}
EXPECTED_PLACES = 10_111


async def wait_ready(session: aiohttp.ClientSession, base: str, deadline: float) -> float:
    started = time.monotonic()
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/fhir/Location?_count=1") as response:
                if response.status == 200 and (await response.json())["total"] == EXPECTED_PLACES:
                    return time.monotonic() - started
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the registries service did not become ready in time")


async def load(
    session: aiohttp.ClientSession, url_for: Callable[[int], str], requests: int
) -> tuple[float, list[float]]:
    """Requests/s and per-request latencies at CONCURRENCY, bounded by count and TIME_CAP."""
    latencies: list[float] = []
    counter = iter(range(requests))
    stop_at = time.monotonic() + TIME_CAP

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > stop_at:
                return
            t0 = time.perf_counter()
            async with session.get(url_for(i)) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url_for(i)} answered {response.status}")
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def sync(session: aiohttp.ClientSession, url: str) -> tuple[float, int, int, str]:
    """Follow `next` links to the end: seconds, resources, pages, newest lastUpdated."""
    started = time.perf_counter()
    count = pages = 0
    newest = ""
    next_url: str | None = url
    while next_url:
        async with session.get(next_url) as response:
            page = await response.json()
        pages += 1
        for entry in page.get("entry", []):
            count += 1
            newest = max(newest, entry["resource"]["meta"]["lastUpdated"])
        next_url = next((ln["url"] for ln in page["link"] if ln["relation"] == "next"), None)
    return time.perf_counter() - started, count, pages, newest


def just_after(stamp: str) -> str:
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) + dt.timedelta(microseconds=1)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


async def history(session: aiohttp.ClientSession, url: str) -> tuple[list[float], int]:
    """Sequential `_history` requests: latencies and the entries of the last answer."""
    latencies: list[float] = []
    entries = 0
    for _ in range(HISTORY_REQUESTS):
        t0 = time.perf_counter()
        async with session.get(url) as response:
            page = await response.json()
        latencies.append(time.perf_counter() - t0)
        entries = len(page.get("entry", []))
    return latencies, entries


def ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


async def run(base: str) -> None:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        ready_s = await wait_ready(session, base, time.monotonic() + 120)
        await load(session, lambda i: f"{base}/healthz", 200)  # warm-up
        floor_rps, floor_lat = await load(session, lambda i: f"{base}/healthz", FLOOR_REQUESTS)
        districts = [f"XD-R{r:02d}-D{d:02d}" for r in range(1, 11) for d in range(1, 11)]

        def search_url(i: int) -> str:
            return f"{base}/fhir/Location?partof=Location/{districts[i % 100]}&_count=100"

        search_rps, search_lat = await load(session, search_url, SEARCH_REQUESTS)
        seq_floor: list[float] = []
        for _ in range(200):
            t0 = time.perf_counter()
            async with session.get(f"{base}/healthz") as response:
                await response.read()
            seq_floor.append(time.perf_counter() - t0)
        floor_seq = statistics.mean(seq_floor)
        results = {}
        for count in (1000, 100):
            results[count] = await sync(session, f"{base}/fhir/Location?_count={count}")
        newest = results[1000][3]
        for n in range(10):
            facility = f"{base}/admin/facilities/XD-R07-D{n + 1:02d}-F010"
            body = {"name": f"Benchmark Renamed {n}"}
            async with session.patch(facility, json=body, headers=ADMIN) as response:
                assert response.status == 200, await response.text()
        inc_s, inc_count, _, _ = await sync(
            session, f"{base}/fhir/Location?_lastUpdated=gt{newest}&_count=1000"
        )
        since = just_after(newest)
        hist_lat, hist_count = await history(
            session, f"{base}/fhir/Location/_history?_since={since}&_count=1000"
        )

    print(f"service ready with the national list after {ready_s:.1f} s (generation included)")
    print(
        f"/healthz floor: {floor_rps:,.0f} req/s at concurrency {CONCURRENCY} "
        f"(p50 {ms(floor_lat, 50):.1f} ms)"
    )
    print(
        f"Location?partof=<district>&_count=100: {search_rps:,.0f} req/s "
        f"= {search_rps / floor_rps:.2f}x the floor; p50 {ms(search_lat, 50):.1f} ms, "
        f"p95 {ms(search_lat, 95):.1f} ms ({ms(search_lat, 50) / ms(floor_lat, 50):.1f}x floor p50)"
    )
    for count, (seconds, resources, pages, _) in results.items():
        assert resources == EXPECTED_PLACES, resources
        print(
            f"full sync _count={count}: {resources:,} Locations in {pages} pages, "
            f"{seconds:.2f} s = {seconds / floor_seq:,.0f} sequential /healthz round trips "
            f"({resources / seconds:,.0f} resources/s)"
        )
    assert inc_count == 10, inc_count
    print(
        f"incremental sync after 10 changes: exactly {inc_count} Locations in "
        f"{inc_s * 1000:.1f} ms = {inc_s / floor_seq:.1f} /healthz round trips"
    )
    assert hist_count == 10, hist_count
    print(
        f"Location/_history?_since after 10 changes among 10,000 facilities: exactly "
        f"{hist_count} versions; p50 {ms(hist_lat, 50):.1f} ms, p95 {ms(hist_lat, 95):.1f} ms "
        f"(target < 30 ms) = {statistics.median(hist_lat) / floor_seq:.1f} /healthz round trips"
    )


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dpi-bench-registries-") as tmp:
        env = {
            "DPI_DATA_DIR": tmp,
            "DPI_REGISTRIES_FACILITY_SIZE": "national",
            "DPI_REGISTRIES_OUTBOX_ENABLED": "false",
            "DPI_LOG_LEVEL": "WARNING",
        }
        # not waited for here: `wait_ready` times the national list's generation
        process = start_uvicorn("services.registries.main:app", port, env, probe=None)
        try:
            asyncio.run(run(f"http://127.0.0.1:{port}"))
        finally:
            stop(process)


if __name__ == "__main__":
    main()
