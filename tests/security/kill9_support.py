"""Kill -9 under load: a provider service as a real uvicorn process on its own database, a few
concurrent clients writing until it is killed mid-load, a restart on the same database, and a
read-back of every write that was acknowledged before the kill."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.common import free_port, start_uvicorn

Context = dict[str, Any]  # what a case's setup learned from the running service (seeded ids…)
Ack = dict[str, str]  # the identifiers of one acknowledged write
DEAD_MEDIATOR = "http://127.0.0.1:1"  # nothing listens: outbox events stay pending
TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class Call:
    """One HTTP request, relative to the service's base URL."""

    method: str
    path: str
    json: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class WriteKind:
    """A write the load sends (the i-th one from `request`), what its acknowledgement names
    (`ack`), how to read it back (`read`, found when `found`), and its outbox event's id."""

    name: str
    request: Callable[[int, Context], Call]
    ack: Callable[[int, httpx.Response], Ack]
    read: Callable[[Ack], Call]
    found: Callable[[Ack, httpx.Response], bool] = lambda ack, response: response.status_code == 200
    outbox_id: Callable[[Ack], str] | None = None
    eventually: bool = False  # applied after the answer (a queued job): poll the read-back


@dataclass(frozen=True)
class ServiceCase:
    """A provider service, its credentials, the writes to load it with, and its outbox."""

    service: str
    env: Mapping[str, str]
    writes: tuple[WriteKind, ...]
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    setup: Callable[[httpx.Client, Context], Context] = lambda client, context: {}
    # ids of every event its outbox holds (pending or published) or has delivered
    outbox: Callable[[httpx.Client, Context], set[str]] | None = None

    def __str__(self) -> str:
        return self.service


@dataclass
class Load:
    """What the clients saw: acknowledged writes, refusals, and what the kill interrupted."""

    acked: list[tuple[WriteKind, Ack]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    sent: int = 0
    unanswered: int = 0
    in_flight: int = 0
    in_flight_at_kill: int = -1
    killed_at: float | None = None

    @property
    def killed(self) -> bool:
        return self.killed_at is not None

    def per_kind(self) -> Counter[str]:
        return Counter(kind.name for kind, _ in self.acked)


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def client(self, case: ServiceCase) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers=dict(case.headers), auth=case.auth, timeout=TIMEOUT
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=15)


@contextmanager
def running(case: ServiceCase, database_url: str, data_dir: Path) -> Iterator[Served]:
    """The service as a real process, with the handle needed to kill -9 it."""
    port = free_port()
    env = {
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_LOG_FORMAT": "text",
        "DPI_ADMIN_KEY": "dpi-admin",
        "DPI_INTEROP_LAYER_URL": DEAD_MEDIATOR,
        f"DPI_{case.service.upper()}_DATABASE_URL": database_url,
        **case.env,
    }
    log = data_dir / f"{case.service}-{time.monotonic_ns()}.log"
    process = start_uvicorn(f"services.{case.service}.main:app", port, env, log=log, timeout=60)
    try:
        yield Served(process=process, url=f"http://127.0.0.1:{port}", log=log)
    finally:
        _kill(process)


def send(client: httpx.Client, call: Call) -> httpx.Response:
    return client.request(
        call.method, call.path, json=call.json, params=call.params, headers=call.headers
    )


@dataclass(frozen=True)
class Plan:
    """How hard and how long to load before the kill; every bound is explicit."""

    clients: int = 6
    max_writes: int = 450
    kill_after_acks: int = 150  # kill once this many writes were acknowledged,
    kill_after_seconds: float = 2.5  # or after this long if every kind has
    min_per_kind: int = 5  # this many acknowledged (else go on, up to max_writes)


def load_and_kill(case: ServiceCase, served: Served, context: Context, plan: Plan) -> Load:
    """Writes from `plan.clients` concurrent clients, each kind in turn; SIGKILL the server
    after a response, as planned, while the other clients still wait for theirs."""
    return asyncio.run(_load(case, served, context, plan))


async def _load(case: ServiceCase, served: Served, context: Context, plan: Plan) -> Load:
    load = Load()
    numbers = itertools.count()
    deadline = time.monotonic() + plan.kill_after_seconds

    def due() -> bool:
        if len(load.acked) >= plan.kill_after_acks:
            return True
        counts = load.per_kind()
        enough = all(counts.get(kind.name, 0) >= plan.min_per_kind for kind in case.writes)
        return enough and time.monotonic() > deadline

    def kill_now() -> None:
        load.in_flight_at_kill = load.in_flight
        load.killed_at = time.monotonic()
        os.kill(served.process.pid, signal.SIGKILL)

    async def worker(http: httpx.AsyncClient) -> None:
        while not load.killed:
            i = next(numbers)
            if i >= plan.max_writes:
                return
            kind = case.writes[i % len(case.writes)]
            call = kind.request(i, context)
            load.sent += 1
            load.in_flight += 1
            try:
                response = await http.request(
                    call.method, call.path, json=call.json, params=call.params, headers=call.headers
                )
            except httpx.HTTPError:
                load.unanswered += 1
                continue
            finally:
                load.in_flight -= 1
            if response.is_success:
                load.acked.append((kind, kind.ack(i, response)))
            else:
                load.refused.append(
                    f"{kind.name} #{i}: {response.status_code} {response.text[:300]}"
                )
            if not load.killed and due():
                kill_now()

    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with httpx.AsyncClient(
        base_url=served.url,
        headers=dict(case.headers),
        auth=case.auth,
        timeout=TIMEOUT,
        limits=limits,
    ) as http:
        await asyncio.gather(*(worker(http) for _ in range(plan.clients)))
    return load


def missing_after_restart(
    case: ServiceCase, client: httpx.Client, load: Load, *, poll_seconds: float
) -> list[str]:
    """Every acknowledged write that cannot be read back (queued ones polled until a deadline)."""
    missing = []
    deadline = time.monotonic() + poll_seconds
    for kind, ack in load.acked:
        call = kind.read(ack)
        while not kind.found(ack, response := send(client, call)):
            if not kind.eventually or time.monotonic() > deadline:
                missing.append(f"{kind.name} {ack}: {response.status_code} {response.text[:200]}")
                break
            time.sleep(0.1)
    return missing


def missing_from_outbox(
    case: ServiceCase, client: httpx.Client, context: Context, load: Load, *, poll_seconds: float
) -> list[str]:
    """Acknowledged writes whose event the outbox neither holds nor delivered by a deadline."""
    if case.outbox is None:
        return []
    expected = {(kind.name, kind.outbox_id(ack)) for kind, ack in load.acked if kind.outbox_id}
    deadline = time.monotonic() + poll_seconds
    while True:
        held = case.outbox(client, context)
        missing = sorted(f"{name} {event}" for name, event in expected if event not in held)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.2)


class Receiver:
    """A webhook endpoint on loopback that keeps the JSON bodies posted to it."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def received(self) -> list[Any]:
        with self._lock:
            return list(self.bodies)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running `Receiver`, shut down when left."""
    hook = Receiver()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()
        thread.join(timeout=5)
