"""Two mediator replicas on one PostgreSQL database against one, on the same machine: both
serve on their own loopback port (each its own message-log chain, `DPI_INTEROP_LAYER_REPLICA`),
and the load of `bench.interop_layer` (32 connections, two client processes, `wrk` when
installed, else aiohttp) goes either all to the first or half to each. Rounds interleave; each
ratio is taken within its round. The log of both chains is verified with `dpi log verify` at
the end.

What is measured is the mediator, so the rest costs as little as it can: the provider is nginx
answering fixed JSON when nginx is installed (the FastAPI provider of `bench.interop_layer`
otherwise, which costs about as much CPU per request as the mediator and so takes the second
core a second replica would use). A control pair of replicas with the message log off shows
what splitting the load costs on this machine with nothing to coordinate."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

from bench.common import free_port, start_uvicorn, stop
from bench.interop_layer import (
    CONNECTIONS,
    ITEMS,
    LUA,
    PATH,
    PROVIDER,
    measure,
    start_mediator,
)
from bench.interop_references import start_static_provider
from bench.national import pg
from bench.national.measure import Part, verdict
from bench.national.messagelog import verify

COLUMNS = ["round", "log", "one replica req/s", "two replicas req/s", "two / one", "errors"]
SECONDS = 5
ROUNDS = 5
LOGS = {"metadata": ("r1", "r2"), "off": ("off1", "off2")}  # the log's bodies: replica names


def _load(url: str, seconds: int, connections: int, script: Path) -> tuple[float, int]:
    rate, _, bad, _ = measure(url, seconds, connections, script)
    return rate, bad


def _measure(pool: ProcessPoolExecutor, urls: Sequence[str], script: Path) -> tuple[float, int]:
    """Requests/s and error answers of two client processes, the first on urls[0] and the second
    on urls[-1], CONNECTIONS / 2 connections each."""
    jobs = [
        pool.submit(_load, url, SECONDS, CONNECTIONS // 2, script) for url in (urls[0], urls[-1])
    ]
    results = [job.result() for job in jobs]
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _provider(tmp: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """The provider: its process, port and what it is."""
    port = free_port()
    path = PATH.split("?")[0]
    static = start_static_provider(path, orjson.dumps(ITEMS), port, tmp)
    if static is not None:
        return static, port, "nginx answering fixed JSON"
    process = start_uvicorn("bench.interop_layer:provider_app", port,
                            {"DPI_LOG_LEVEL": "WARNING"}, factory=True, probe=PATH)  # fmt: skip
    return process, port, "FastAPI (nginx is not installed)"


def run(sizes: Sequence[int], part: Part) -> None:
    del sizes  # one replica, then two
    processes: list[subprocess.Popen[bytes]] = []
    ratios: dict[str, list[float]] = {bodies: [] for bodies in LOGS}
    errors = 0
    with pg.database("replicas") as (sa_url, _), tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        shared = tmp / "shared"
        shared.mkdir()
        script = tmp / "headers.lua"
        script.write_text(LUA)
        try:
            provider, provider_port, provider_kind = _provider(tmp)
            processes.append(provider)
            urls: dict[str, list[str]] = {bodies: [] for bodies in LOGS}
            for bodies, replicas in LOGS.items():
                for replica in replicas:  # one after the other: each registers the catalogue
                    env = {"DPI_INTEROP_LAYER_DATABASE_URL": sa_url, "DPI_DATA_DIR": str(shared),
                           "DPI_INTEROP_LAYER_REPLICA": replica}  # fmt: skip
                    process, port = start_mediator(tmp, f"http://127.0.0.1:{provider_port}",
                                                   bodies, name=replica, env=env)  # fmt: skip
                    processes.append(process)
                    urls[bodies].append(f"http://127.0.0.1:{port}/r1/{PROVIDER}/bench{PATH}")
            part.progress(f"provider ({provider_kind}) and 2 + 2 mediator replicas ready")
            with ProcessPoolExecutor(2) as pool:
                for pair in urls.values():
                    _measure(pool, pair, script)  # warm-up of both
                for number in range(1, ROUNDS + 1):
                    part.check(f"before round {number}")
                    for bodies, pair in urls.items():
                        one, bad_one = _measure(pool, pair[:1], script)
                        two, bad_two = _measure(pool, pair, script)
                        errors += bad_one + bad_two
                        ratios[bodies].append(two / one)
                        part.row(number, bodies, f"{one:,.0f}", f"{two:,.0f}",
                                 f"{two / one:.2f}", bad_one + bad_two)  # fmt: skip
                        part.progress(f"round {number}, log {bodies}: one {one:,.0f} req/s, "
                                      f"two {two:,.0f} req/s")  # fmt: skip
        finally:
            for process in reversed(processes):
                stop(process)
        seconds, checked = verify(shared, sa_url)
    ratio = statistics.median(ratios["metadata"])
    control = statistics.median(ratios["off"])
    tool = "wrk" if shutil.which("wrk") else "aiohttp"
    part.notes.append(
        f"two replicas / one, message log on (metadata): median {ratio:.2f} over {ROUNDS} rounds "
        f"(target >= 1.0: {verdict(ratio >= 1.0)}), {errors} errors (target 0: "
        f"{verdict(errors == 0)}); control, log off (nothing to coordinate): median "
        f"{control:.2f}; provider: {provider_kind}; {tool} clients in 2 processes on the same "
        f"cores; `dpi log verify` of both chains: {checked:,} records in {seconds:.1f} s"
    )
