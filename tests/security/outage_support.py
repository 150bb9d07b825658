"""A database outage under load: concurrent writes to a real service process while its private
PostgreSQL server is stopped and started again, and what the clients and `/readyz` saw."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from anyio import to_thread

from tests.private_postgres import PrivatePostgres
from tests.security.kill9_support import TIMEOUT, Ack, Context, ServiceCase, WriteKind


@dataclass(frozen=True)
class OutagePlan:
    """Every bound of one outage, explicit."""

    clients: int = 4
    acks_before: int = 30  # acknowledged writes before the database stops
    refusals_during: int = 20  # refused writes seen while it is down (then it starts again)
    acks_after: int = 30  # acknowledged writes sent once /readyz answers 200 again
    readiness_seconds: float = 10.0  # /readyz must follow the database within this
    phase_seconds: float = 30.0  # the longest any phase may take
    max_writes: int = 5000
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


async def _until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        await asyncio.sleep(0.02)


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


def load_through_outage(
    case: ServiceCase, url: str, context: Context, server: PrivatePostgres, plan: OutagePlan
) -> OutageLoad:
    """Writes from `plan.clients` clients (each kind in turn) before, during and after an outage
    of `server`; returns when enough writes were acknowledged after it."""
    return asyncio.run(_drive(case, url, context, server, plan))


async def _drive(
    case: ServiceCase, url: str, context: Context, server: PrivatePostgres, plan: OutagePlan
) -> OutageLoad:
    load = OutageLoad()
    numbers = itertools.count()
    done = asyncio.Event()

    async def writer(http: httpx.AsyncClient) -> None:
        while not done.is_set() and (i := next(numbers)) < plan.max_writes:
            kind = case.writes[i % len(case.writes)]
            call = kind.request(i, context)
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

    async def conductor(probe: httpx.AsyncClient) -> None:
        try:
            await _until(lambda: len(load.acked) >= plan.acks_before, plan.phase_seconds, "acks")
            stopped = time.monotonic()
            await to_thread.run_sync(server.stop, plan.stop_mode)
            unready = await _readiness(probe, 503, plan.readiness_seconds)
            load.unready_after, load.unready_body = time.monotonic() - stopped, unready.text
            await _until(
                lambda: load.refusals.total() >= plan.refusals_during,
                plan.phase_seconds,
                "writes refused during the outage",
            )
            started = time.monotonic()
            await to_thread.run_sync(server.start)
            await _readiness(probe, 200, plan.readiness_seconds)
            load.ready_after = time.monotonic() - started
            load.back = True
            await _until(
                lambda: load.acks_after >= plan.acks_after, plan.phase_seconds, "acks after"
            )
        finally:
            done.set()

    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with (
        httpx.AsyncClient(
            base_url=url, headers=dict(case.headers), auth=case.auth, timeout=TIMEOUT, limits=limits
        ) as http,
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0)) as probe,
    ):
        await asyncio.gather(conductor(probe), *(writer(http) for _ in range(plan.clients)))
    return load
