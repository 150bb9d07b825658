"""ID system at national size: authentication against `/healthz` and the enrolment rate as the
registry grows. People up to each size are COPYed into the service's PostgreSQL database (the
rows enrolment writes: a valid UIN, the dedupe key, demographics); a sample of enrolments goes
through `POST /v1/identities` at every size, and the time for 10^6 is projected from its rate.
Authentication is the demographic kind (name and date of birth) of `bench.id_registry`, through
its aiohttp client, against the same server's `/healthz` in the same run."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from bench.id_registry import ADMIN, CONNECTIONS, _aiohttp_auth
from bench.national import pg
from bench.national.measure import Part, verdict
from services.id_registry import ids
from services.id_registry.identities.models import STATUS_ACTIVE
from services.id_registry.identities.service import dedupe_key
from services.id_registry.seed import FAMILY, FEMALE, MALE, STREETS

COLUMNS = ["people", "auth req/s", "healthz req/s", "auth / healthz",
           "by service CPU per request", "enrolment /s", "10^6 enrolments (projected)"]  # fmt: skip
DAYS = 31_000  # dates of birth over 85 years: with names and sex, 65 million distinct people
ENROL_SAMPLE = 1_000
AUTH_SECONDS = 5.0
NATIONAL = 1_000_000
STAMP = "2026-01-01 00:00:00+00"


def person(index: int) -> dict[str, Any]:
    """The index-th synthetic person, distinct from every other index below 32 million."""
    rest, day = divmod(index, DAYS)
    rest, given = divmod(rest, 30)
    rest, family = divmod(rest, len(FAMILY))
    gender = ("female", "male")[rest % 2]
    first = (FEMALE if gender == "female" else MALE)[given]
    return {
        "givenName": first,
        "familyName": FAMILY[family],
        "dateOfBirth": (date(1940, 1, 1) + timedelta(days=day)).isoformat(),
        "gender": gender,
        "address": f"{index % 250 + 1} {STREETS[index % len(STREETS)]} Road",
        "phone": f"+999 7{index % 100:02d} {index % 1000:03d} {index // 1000 % 1000:03d}",
        "email": f"person.{index}@example.org",
    }


def _rows(start: int, count: int, taken: set[str]) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(start)
    for index in range(start, start + count):
        data = person(index)
        uin = ids.generate_uin(rng)
        while uin in taken:
            uin = ids.generate_uin(rng)
        taken.add(uin)
        born = date.fromisoformat(data["dateOfBirth"])
        key = dedupe_key(given_name=data["givenName"], family_name=data["familyName"],
                         date_of_birth=born, gender=data["gender"])  # fmt: skip
        yield (uin, key, data["givenName"], data["familyName"], born, data["gender"],
               data["address"], data["phone"], data["email"], "eng", STATUS_ACTIVE, False,
               STAMP, STAMP)  # fmt: skip


def bulk_people(url: str, start: int, count: int) -> None:
    """`count` people from index `start` on, as enrolment stores them."""
    taken = {uin for (uin,) in pg.execute(url, "SELECT uin FROM identity")}
    columns = ("uin", "dedupe_key", "given_name", "family_name", "date_of_birth", "gender",
               "address", "phone", "email", "language", "status", "blocked", "created_at",
               "updated_at")  # fmt: skip
    pg.copy_rows(url, "identity", columns, _rows(start, count, taken))
    pg.execute(url, "ANALYZE identity")


async def enrol(base: str, start: int, count: int) -> tuple[float, int]:
    """Enrolments/s through the API for `count` new people, and how many failed."""
    queue = iter(range(start, start + count))
    failed = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failed
        for index in queue:
            async with session.post(f"{base}/v1/identities", json=person(index)) as response:
                await response.read()
                failed += response.status != 201

    began = time.perf_counter()
    async with aiohttp.ClientSession(headers=ADMIN) as session:
        await asyncio.gather(*(worker(session) for _ in range(8)))
    return count / (time.perf_counter() - began), failed


DEMO = (
    "SELECT uin, given_name || ' ' || family_name, to_char(date_of_birth, 'YYYY/MM/DD')"
    " FROM identity"
)


def _demo(url: str) -> list[tuple[str, ...]]:
    """Up to 3,000 people spread over the registry (UIN, full name, date of birth)."""
    rows = pg.execute(url, DEMO + " TABLESAMPLE SYSTEM (10) LIMIT 3000")
    if len(rows) < 100:
        rows = pg.execute(url, DEMO + " LIMIT 3000")
    return [tuple(row) for row in rows]


def run(sizes: Sequence[int], part: Part) -> None:
    with pg.database("id") as (sa_url, url), tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "DPI_DATA_DIR": tmp,
            "DPI_LOG_LEVEL": "WARNING",
            "DPI_ID_REGISTRY_DATABASE_URL": sa_url,
            "DPI_ID_REGISTRY_SEED_POPULATION": "0",
            "DPI_ID_REGISTRY_PUBLISH_EVENTS": "false",
            "DPI_ID_REGISTRY_REQUEST_TIME_WINDOW_SECONDS": "3600",
        }
        log = Path(tmp) / "service.log"
        process = start_uvicorn("services.id_registry.main:app", port, env, log=log, timeout=90)
        base = f"http://127.0.0.1:{port}"
        try:
            enrolled = 0  # through the API, numbered from 40 million (distinct from the bulk)
            for size in sizes:
                part.check(f"before {size:,} people")
                stored = int(pg.execute(url, "SELECT count(*) FROM identity")[0][0])
                sample = min(ENROL_SAMPLE, max(100, size // 10))
                bulk = max(0, size - stored - sample)
                began = time.perf_counter()
                bulk_people(url, stored, bulk)
                part.progress(f"COPY of {bulk:,} people in {time.perf_counter() - began:.1f} s")
                rate, failed = asyncio.run(enrol(base, 40_000_000 + enrolled, sample))
                enrolled += sample
                if failed:
                    part.notes.append(f"{failed} enrolments failed at {size:,} people")
                part.progress(f"{sample:,} enrolments through the API: {rate:,.0f}/s")
                demo = _demo(url)
                asyncio.run(_aiohttp_auth(base, 1.0, demo, []))  # warm-up
                spent = cpu_seconds(process.pid)
                floor_a, calls_a, _, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, None))
                mid = cpu_seconds(process.pid)
                auth, total, bad, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, []))
                after = cpu_seconds(process.pid)
                floor_b, calls_b, _, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, None))
                healthz_cpu = (mid - spent + cpu_seconds(process.pid) - after) / (calls_a + calls_b)
                auth_cpu = (after - mid) / max(total, 1)
                floor = (floor_a + floor_b) / 2
                if bad:
                    part.notes.append(f"{bad} of {total} authentications failed at {size:,}")
                people = int(pg.execute(url, "SELECT count(*) FROM identity")[0][0])
                projected = NATIONAL / rate
                part.row(people, f"{auth:,.0f}", f"{floor:,.0f}", f"{auth / floor:.2f}",
                         f"{healthz_cpu / auth_cpu:.2f}", f"{rate:,.0f}",
                         f"{projected / 60:.1f} min")  # fmt: skip
                part.progress(f"{people:,} people: auth / healthz {auth / floor:.2f}")
        finally:
            stop(process)
    if part.rows:
        ratio = float(part.rows[-1][3])
        minutes = float(part.rows[-1][6].split()[0])
        part.notes.append(
            f"auth / healthz at the largest size {ratio:.2f} "
            f"(target >= 0.5: {verdict(ratio >= 0.5)});"
            f" 10^6 enrolments through the API projected {minutes:.1f} min"
            f" (target < 10 min: {verdict(minutes < 10)}); demographic authentication only,"
            f" aiohttp client with {CONNECTIONS} connections on the same 2 cores"
        )
