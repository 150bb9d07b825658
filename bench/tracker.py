"""Sectoral platform tracker: import rate of tracked entities against the `/healthz` floor.

Each tracked entity comes with one enrollment and two events (birth and immunisation), posted
nested in batches of 1,000 with `async=false` (target >= 1,000 tracked entities/s). The same
run measures the server's `/healthz` throughput, so the import figure is reported as a ratio.

Then searches by attribute (`filter=<first name>:eq:<value>`, and the same search ordered by an
attribute), reported as a ratio to `/healthz` too.

Run: `.venv/bin/python -m bench.tracker` (well under a minute). Loopback only; starts and stops
its own uvicorn process on a free port with a temporary data directory.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.common import free_port, start_uvicorn, stop
from services.sectoral_platform.seed.orgunits import uid_for

AUTH = {"Authorization": "Basic " + base64.b64encode(b"admin:district").decode()}
BATCH = 1_000
BATCHES = 10
HEALTHZ_REQUESTS = 2_000
CONCURRENCY = 8
DEADLINE = 120.0
FACILITIES = [uid_for(f"XD-R01-D0{d}-F00{f}") for d in (1, 2) for f in (1, 2, 3)]


async def _healthz_rate(session: aiohttp.ClientSession, base: str) -> float:
    remaining = HEALTHZ_REQUESTS

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with session.get(f"{base}/healthz") as response:
                assert response.status == 200
                await response.read()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return HEALTHZ_REQUESTS / (time.perf_counter() - started)


def _batch(number: int) -> bytes:
    people: list[dict[str, Any]] = []
    for i in range(BATCH):
        ou = FACILITIES[i % len(FACILITIES)]
        n = number * BATCH + i
        people.append({
            "trackedEntityType": "nEenWmSyUEp",
            "orgUnit": ou,
            "attributes": [
                {"attribute": "w75KJ2mc4zz", "value": f"Child {n}"},
                {"attribute": "iESIqZ0R0R0", "value": "2024-03-01"},
                {"attribute": "NatIdTok0en", "value": f"bench-psut-{n:08d}"},
            ],
            "enrollments": [{
                "program": "IpHINAT79UW", "orgUnit": ou, "enrolledAt": "2024-03-01",
                "events": [
                    {"programStage": "A03MvHHogjR", "orgUnit": ou, "occurredAt": "2024-03-01",
                     "status": "COMPLETED",
                     "dataValues": [{"dataElement": "UXz7xuGCEhU", "value": "3100"},
                                    {"dataElement": "bx6fsa0t90x", "value": "true"}]},
                    {"programStage": "ZzYYXq4fJie", "orgUnit": ou, "occurredAt": "2024-12-01",
                     "status": "COMPLETED",
                     "dataValues": [{"dataElement": "GQY2lXrypjO", "value": "true"}]},
                ],
            }],
        })  # fmt: skip
    return orjson.dumps({"trackedEntities": people})


async def _import_rate(
    session: aiohttp.ClientSession, base: str, bodies: list[bytes]
) -> tuple[float, list[float]]:
    seconds: list[float] = []
    started = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        async with session.post(
            f"{base}/api/tracker?async=false",
            data=body,
            headers={"Content-Type": "application/json", **AUTH},
        ) as response:
            report = orjson.loads(await response.read())
            assert response.status == 200, report
            assert report["stats"]["created"] == BATCH * 4, report["stats"]
        seconds.append(time.perf_counter() - t0)
        if time.perf_counter() - started > DEADLINE:
            break
    return len(seconds) * BATCH / (time.perf_counter() - started), seconds


SEARCHES = 400


async def _search_rate(
    session: aiohttp.ClientSession, base: str, stored: int, order: str | None
) -> float:
    """Searches by first name (one match each), `CONCURRENCY` at a time."""
    remaining = SEARCHES

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            n = (remaining * 7919) % stored
            params = {"program": "IpHINAT79UW", "orgUnitMode": "ALL",
                      "filter": f"w75KJ2mc4zz:eq:Child {n}"}  # fmt: skip
            if order:
                params["order"] = order
            async with session.get(
                f"{base}/api/tracker/trackedEntities", params=params, headers=AUTH
            ) as response:
                body = await response.json()
                assert response.status == 200 and len(body["trackedEntities"]) == 1, body

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return SEARCHES / (time.perf_counter() - started)


async def _run(base: str) -> None:
    bodies = [_batch(n) for n in range(BATCHES)]  # built first: idle keep-alives get closed
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        healthz = await _healthz_rate(session, base)
        rate, seconds = await _import_rate(session, base, bodies)
        async with session.get(
            f"{base}/api/tracker/trackedEntities",
            params={
                "program": "IpHINAT79UW",
                "orgUnitMode": "ALL",
                "totalPages": "true",
                "pageSize": "1",
            },
            headers=AUTH,
        ) as response:
            total = (await response.json())["pager"]["total"]
        search = await _search_rate(session, base, total, None)
        ordered = await _search_rate(session, base, total, "iESIqZ0R0R0:desc,createdAt")
    print(f"/healthz floor: {healthz:,.0f} requests/s ({CONCURRENCY} concurrent)")
    print(
        f"tracker import: {rate:,.0f} tracked entities/s (each + 1 enrollment + 2 events),"
        f" batches of {BATCH}, {len(seconds)} batches, {total:,} stored"
    )
    print(f"  batch seconds: first {seconds[0]:.2f}, last {seconds[-1]:.2f}")
    print(
        f"  ratio: {rate / healthz:.2f} tracked entities per /healthz request"
        f" ({rate * 4 / healthz:.2f} objects per /healthz request); target >= 1,000 TE/s:"
        f" {'met' if rate >= 1000 else 'NOT met'}"
    )
    print(
        f"search by attribute over {total:,}: {search:,.0f} searches/s"
        f" (ratio {search / healthz:.3f} per /healthz request); ordered by an attribute:"
        f" {ordered:,.0f}/s (ratio {ordered / healthz:.3f})"
    )


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-tracker-"))
    port = free_port()
    env = {
        "DPI_SECTORAL_PLATFORM_DATABASE_URL": f"sqlite:///{data_dir / 'sp.db'}",
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
    }
    process = start_uvicorn("services.sectoral_platform.main:app", port, env)
    try:
        asyncio.run(_run(f"http://127.0.0.1:{port}"))
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
