"""A database outage under load: concurrent writes to real service processes while the private
PostgreSQL server they share is stopped and started again, and what the clients and each
service's `/readyz` saw."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
from anyio import to_thread

from tests.private_postgres import PrivatePostgres
from tests.security.kill9_support import TIMEOUT, Ack, Context, ServiceCase, WriteKind
from tests.support.polling import until


@dataclass(frozen=True)
class OutagePlan:
    """Every bound of one outage, explicit."""

    clients: int = 4
    acks_before: int = 20  # acknowledged writes before the database stops
    refusals_during: int = 10  # refused writes seen while it is down (then it starts again)
    acks_after: int = 20  # acknowledged writes sent once /readyz answers 200 again
    readiness_seconds: float = 10.0  # /readyz must follow the database within this
    phase_seconds: float = 30.0  # the longest any phase may take
    refused_pause: float = 0.02  # a refused client's pause before its next write
    stop_mode: str = "fast"


@dataclass
class OutageLoad:
    """What the clients and the probe saw."""

    acked: list[tuple[WriteKind, Ack]] = field(default_factory=list)
    refusals: Counter[int] = field(default_factory=Counter)
    refusal_bodies: list[str] = field(default_factory=list)  # a few, to check their shape
    failures: list[str] = field(default_factory=list)  # neither 2xx nor 503, or no answer
    acks_after: int = 0
    unready_after: float = -1.0  # seconds from the stop to /readyz 503
    ready_after: float = -1.0  # seconds from the start to /readyz 200
    unready_body: str = ""
    back: bool = False  # the database was started again and /readyz said so


@dataclass
class Target:
    """One service under load: its case, base URL, what its setup learned, and what it saw."""

    case: ServiceCase
    url: str
    context: Context
    max_writes: int = 5000  # the case's writes run out after this many
    load: OutageLoad = field(default_factory=OutageLoad)


async def _readiness(probe: httpx.AsyncClient, status: int, seconds: float) -> httpx.Response:
    """Poll /readyz until it answers `status`; the answer."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = await probe.get("/readyz")
            if response.status_code == status:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz did not answer {status} within {seconds:g} s")
        await asyncio.sleep(0.05)


def load_through_outage(targets: list[Target], server: PrivatePostgres, plan: OutagePlan) -> None:
    """Writes to every target from `plan.clients` clients each (each kind in turn) before,
    during and after an outage of `server`; returns when every target acknowledged enough writes
    after it. What each saw is in its `load`."""
    asyncio.run(_drive(targets, server, plan))


async def _write(
    target: Target,
    http: httpx.AsyncClient,
    numbers: Iterator[int],
    plan: OutagePlan,
    done: asyncio.Event,
) -> None:
    case, load = target.case, target.load
    while not done.is_set() and (i := next(numbers)) < target.max_writes:
        kind = case.writes[i % len(case.writes)]
        call = kind.request(i, target.context)
        after = load.back
        began = time.monotonic()
        try:
            response = await http.request(
                call.method, call.path, json=call.json, params=call.params, headers=call.headers
            )
        except httpx.HTTPError as exc:
            spent = time.monotonic() - began
            load.failures.append(f"{kind.name} #{i}: {type(exc).__name__} after {spent:.1f} s")
            continue
        if response.is_success:
            load.acked.append((kind, kind.ack(i, response)))
            load.acks_after += after
        elif response.status_code == 503:
            load.refusals[response.status_code] += 1
            if len(load.refusal_bodies) < 3:
                load.refusal_bodies.append(response.text)
            await asyncio.sleep(plan.refused_pause)
        else:
            answer = f"{response.status_code} {response.text[:300]}"
            load.failures.append(f"{kind.name} #{i}: {answer}")


async def _conduct(
    targets: list[Target],
    probes: list[httpx.AsyncClient],
    server: PrivatePostgres,
    plan: OutagePlan,
) -> None:
    loads = [target.load for target in targets]

    async def unready(load: OutageLoad, probe: httpx.AsyncClient, since: float) -> None:
        response = await _readiness(probe, 503, plan.readiness_seconds)
        load.unready_after, load.unready_body = time.monotonic() - since, response.text

    async def ready(load: OutageLoad, probe: httpx.AsyncClient, since: float) -> None:
        await _readiness(probe, 200, plan.readiness_seconds)
        load.ready_after, load.back = time.monotonic() - since, True

    await until(
        lambda: all(len(load.acked) >= plan.acks_before for load in loads),
        "writes acknowledged before the outage",
        within=plan.phase_seconds,
    )
    stopped = time.monotonic()
    await to_thread.run_sync(server.stop, plan.stop_mode)
    pairs = list(zip(loads, probes, strict=True))
    await asyncio.gather(*(unready(load, probe, stopped) for load, probe in pairs))
    await until(
        lambda: all(load.refusals.total() >= plan.refusals_during for load in loads),
        "writes refused during the outage",
        within=plan.phase_seconds,
    )
    started = time.monotonic()
    await to_thread.run_sync(server.start)
    await asyncio.gather(*(ready(load, probe, started) for load, probe in pairs))
    await until(
        lambda: all(load.acks_after >= plan.acks_after for load in loads),
        "writes acknowledged after the outage",
        within=plan.phase_seconds,
    )


async def _drive(targets: list[Target], server: PrivatePostgres, plan: OutagePlan) -> None:
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with contextlib.AsyncExitStack() as stack:
        writers, probes = [], []
        for target in targets:
            case = target.case
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=target.url,
                    headers=dict(case.headers),
                    auth=case.auth,
                    timeout=TIMEOUT,
                    limits=limits,
                )
            )
            probes.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=target.url, timeout=httpx.Timeout(5.0))
                )
            )
            numbers = itertools.count()
            writers += [_write(target, http, numbers, plan, done) for _ in range(plan.clients)]

        async def conductor() -> None:
            try:
                await _conduct(targets, probes, server, plan)
            finally:
                done.set()

        await asyncio.gather(conductor(), *writers)
