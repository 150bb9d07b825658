"""ID system at national size: authentication against `/healthz` and the enrolment rate as the
registry grows. Every person is enrolled through the API: up to each size by
`POST /v1/identities/batch` (1,000 a request, 4 requests in flight), with the service's and
PostgreSQL's CPU per 1,000, and a sample of 200 one by one through `POST /v1/identities` for the
single-enrolment rate; at `--scale full` the time to enrol 10^6 is measured. Authentication is
the demographic kind (name and date of birth) of `bench.id_registry`, through its aiohttp client,
against the same server's `/healthz` in the same run."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from bench.id_registry import ADMIN, CONNECTIONS, _aiohttp_auth
from bench.national import pg
from bench.national.measure import Part, verdict
from services.id_registry.seed import FAMILY, FEMALE, MALE, STREETS

COLUMNS = ["people", "auth req/s", "healthz req/s", "auth / healthz",
           "by service CPU per request", "batch enrolments/s", "service CPU s / 1,000",
           "PostgreSQL CPU s / 1,000", "enrolled so far in", "single enrolments/s",
           "load 1 min"]  # fmt: skip
DAYS = 31_000  # dates of birth over 85 years: with names and sex, 65 million distinct people
BATCH = 1_000  # people a batch request
IN_FLIGHT = 4
SINGLE_SAMPLE = 200  # one by one at every size, the rate to compare with
SINGLES_FROM = 40_000_000  # their numbering: distinct from the batches'
AUTH_SECONDS = 5.0
NATIONAL = 1_000_000


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


@dataclass
class Enrolled:
    """What enrolling through the API cost: people, wall seconds, refused, and the service's and
    PostgreSQL backends' CPU seconds."""

    people: int = 0
    seconds: float = 0.0
    refused: int = 0
    service_cpu: float = 0.0
    database_cpu: float = 0.0

    def add(self, other: Enrolled) -> None:
        self.people += other.people
        self.seconds += other.seconds
        self.refused += other.refused
        self.service_cpu += other.service_cpu
        self.database_cpu += other.database_cpu

    def rate(self) -> float:
        return self.people / self.seconds if self.seconds else 0.0


def _measured(url: str, pid: int, people: int, call: Callable[[], int]) -> Enrolled:
    """Run `call` (it enrols `people` and answers how many were refused) and measure it."""
    service, backends = cpu_seconds(pid), pg.backend_cpu(url)
    began = time.perf_counter()
    refused = call()
    seconds = time.perf_counter() - began
    database = pg.backend_cpu_since(url, backends)
    return Enrolled(people, seconds, refused, cpu_seconds(pid) - service, database)


async def enrol_batches(base: str, start: int, count: int) -> int:
    """Enrol people `start`..`start + count` through `POST /v1/identities/batch`, BATCH a
    request and IN_FLIGHT requests at a time; how many were not enrolled."""
    starts = iter(range(start, start + count, BATCH))
    refused = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal refused
        for first in starts:
            people = [person(i) for i in range(first, min(first + BATCH, start + count))]
            body = orjson.dumps({"identities": people})
            async with session.post(f"{base}/v1/identities/batch", data=body) as response:
                answer = await response.read()
            if response.status != 200:
                refused += len(people)
                continue
            refused += int(orjson.loads(answer)["refused"])

    headers = {**ADMIN, "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=300)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
    return refused


async def enrol_singly(base: str, start: int, count: int) -> int:
    """Enrol people one per `POST /v1/identities`, 8 at a time; how many failed."""
    queue = iter(range(start, start + count))
    failed = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failed
        for index in queue:
            async with session.post(f"{base}/v1/identities", json=person(index)) as response:
                await response.read()
                failed += response.status != 201

    async with aiohttp.ClientSession(headers=ADMIN) as session:
        await asyncio.gather(*(worker(session) for _ in range(8)))
    return failed


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
            "DPI_ID_REGISTRY_MAX_BATCH_ENROLMENTS": str(BATCH),
        }
        log = Path(tmp) / "service.log"
        process = start_uvicorn("services.id_registry.main:app", port, env, log=log, timeout=90)
        base = f"http://127.0.0.1:{port}"
        pid = process.pid
        batches, singles = Enrolled(), Enrolled()
        try:
            for size in sizes:
                part.check(f"before {size:,} people")
                stored = int(pg.execute(url, "SELECT count(*) FROM identity")[0][0])
                sample = min(SINGLE_SAMPLE, max(0, size - stored))
                first = SINGLES_FROM + singles.people
                single = _measured(
                    url, pid, sample, partial(asyncio.run, enrol_singly(base, first, sample))
                )
                singles.add(single)
                need = max(0, size - stored - sample)
                start = batches.people
                step = _measured(
                    url, pid, need, partial(asyncio.run, enrol_batches(base, start, need))
                )
                batches.add(step)
                if step.refused or single.refused:
                    part.notes.append(f"{step.refused + single.refused} enrolments refused or"
                                      f" failed on the way to {size:,} people")  # fmt: skip
                part.progress(f"{need:,} enrolled by batch: {step.rate():,.0f}/s, "
                              f"{1000 * step.service_cpu / max(need, 1):.2f} service CPU s per"
                              f" 1,000; {sample} one by one: {single.rate():,.0f}/s")  # fmt: skip
                demo = _demo(url)
                asyncio.run(_aiohttp_auth(base, 1.0, demo, []))  # warm-up
                spent = cpu_seconds(pid)
                floor_a, calls_a, _, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, None))
                mid = cpu_seconds(pid)
                auth, total, bad, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, []))
                after = cpu_seconds(pid)
                floor_b, calls_b, _, _ = asyncio.run(_aiohttp_auth(base, AUTH_SECONDS, demo, None))
                healthz_cpu = (mid - spent + cpu_seconds(pid) - after) / (calls_a + calls_b)
                auth_cpu = (after - mid) / max(total, 1)
                floor = (floor_a + floor_b) / 2
                if bad:
                    part.notes.append(f"{bad} of {total} authentications failed at {size:,}")
                people = int(pg.execute(url, "SELECT count(*) FROM identity")[0][0])
                per = 1000 / max(need, 1)
                so_far = batches.seconds + singles.seconds
                part.row(people, f"{auth:,.0f}", f"{floor:,.0f}", f"{auth / floor:.2f}",
                         f"{healthz_cpu / auth_cpu:.2f}", f"{step.rate():,.0f}",
                         f"{step.service_cpu * per:.2f}", f"{step.database_cpu * per:.2f}",
                         f"{so_far:,.0f} s", f"{single.rate():,.0f}",
                         f"{os.getloadavg()[0]:.1f}")  # fmt: skip
                part.progress(f"{people:,} people: auth / healthz {auth / floor:.2f}")
        finally:
            stop(process)
    if part.rows and batches.people and batches.service_cpu:
        _summary(part, batches, singles)


def _summary(part: Part, batches: Enrolled, singles: Enrolled) -> None:
    ratio = float(part.rows[-1][3])
    people = int(part.rows[-1][0].replace(",", ""))
    minutes = (batches.seconds + singles.seconds) / 60
    if people >= NATIONAL:
        national = f"{people:,} people enrolled through the API in {minutes:.1f} min (measured)"
        ok = minutes < 10
    else:
        projected = NATIONAL / batches.rate() / 60
        national = f"10^6 by batch projected {projected:.1f} min from {people:,} people"
        ok = projected < 10
    service = batches.service_cpu / batches.people
    database = batches.database_cpu / batches.people
    ceiling = min(1 / service, 2 / (service + database))
    part.notes.append(
        f"auth / healthz at the largest size {ratio:.2f} (target >= 0.5: {verdict(ratio >= 0.5)});"
        f" {national} (target < 10 min: {verdict(ok)}); batch enrolment {batches.rate():,.0f}/s"
        f" over {batches.people:,} people ({BATCH:,} a request, {IN_FLIGHT} in flight), one by one"
        f" {singles.rate():,.0f}/s; CPU per 1,000 by batch: service {1000 * service:.2f} s,"
        f" PostgreSQL backends {1000 * database:.2f} s, so on 2 quiet cores at most"
        f" {ceiling:,.0f}/s (one Python process, one core) (target >= 1,667/s:"
        f" {verdict(ceiling >= 1667)}); demographic authentication only, aiohttp client with"
        f" {CONNECTIONS} connections on the same 2 cores"
    )
