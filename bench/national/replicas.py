"""Two mediator replicas on one PostgreSQL database against one, on the same machine: both
serve on their own loopback port (each its own message-log chain, `DPI_INTEROP_LAYER_REPLICA`),
and the load of `bench.interop_layer` (32 connections, two client processes) goes either all to
the first or half to each. Rounds interleave; each ratio is taken within its round. The log of
both chains is verified with `dpi log verify` at the end."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import free_port, start_uvicorn, stop
from bench.interop_layer import CONNECTIONS, PATH, PROVIDER, _aiohttp, start_mediator
from bench.national import pg
from bench.national.measure import Part, verdict
from bench.national.messagelog import verify

COLUMNS = ["round", "one replica req/s", "two replicas req/s", "two / one", "errors"]
SECONDS = 5
ROUNDS = 3


def _load(url: str, seconds: int, connections: int) -> tuple[float, int]:
    rate, _, bad, _ = asyncio.run(_aiohttp(url, seconds, connections))
    return rate, bad


def _measure(pool: ProcessPoolExecutor, urls: Sequence[str]) -> tuple[float, int]:
    """Requests/s and error answers of two client processes, the first on urls[0] and the second
    on urls[-1], CONNECTIONS / 2 connections each."""
    jobs = [pool.submit(_load, url, SECONDS, CONNECTIONS // 2) for url in (urls[0], urls[-1])]
    results = [job.result() for job in jobs]
    return sum(r[0] for r in results), sum(r[1] for r in results)


def run(sizes: Sequence[int], part: Part) -> None:
    del sizes  # one replica, then two
    processes: list[subprocess.Popen[bytes]] = []
    with pg.database("replicas") as (sa_url, _), tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        shared = tmp / "shared"
        shared.mkdir()
        try:
            provider_port = free_port()
            processes.append(start_uvicorn("bench.interop_layer:provider_app", provider_port,
                                           {"DPI_LOG_LEVEL": "WARNING"}, factory=True,
                                           probe=PATH))  # fmt: skip
            urls = []
            for replica in ("r1", "r2"):  # one after the other: each registers the catalogue
                env = {"DPI_INTEROP_LAYER_DATABASE_URL": sa_url, "DPI_DATA_DIR": str(shared),
                       "DPI_INTEROP_LAYER_REPLICA": replica}  # fmt: skip
                process, port = start_mediator(tmp, f"http://127.0.0.1:{provider_port}",
                                               "metadata", name=replica, env=env)  # fmt: skip
                processes.append(process)
                urls.append(f"http://127.0.0.1:{port}/r1/{PROVIDER}/bench{PATH}")
            part.progress("provider and 2 mediator replicas ready")
            ratios = []
            errors = 0
            with ProcessPoolExecutor(2) as pool:
                _measure(pool, urls)  # warm-up of both
                for number in range(1, ROUNDS + 1):
                    part.check(f"before round {number}")
                    one, bad_one = _measure(pool, urls[:1])
                    two, bad_two = _measure(pool, urls)
                    errors += bad_one + bad_two
                    ratios.append(two / one)
                    part.row(number, f"{one:,.0f}", f"{two:,.0f}", f"{two / one:.2f}",
                             bad_one + bad_two)  # fmt: skip
                    part.progress(f"round {number}: one {one:,.0f} req/s, two {two:,.0f} req/s")
        finally:
            for process in reversed(processes):
                stop(process)
        seconds, checked = verify(shared, sa_url)
    ratio = statistics.median(ratios)
    part.notes.append(
        f"two replicas / one: median {ratio:.2f} over {ROUNDS} rounds (target >= 1.0: "
        f"{verdict(ratio >= 1.0)}), {errors} errors (target 0: {verdict(errors == 0)}); "
        f"aiohttp clients in 2 processes on the same 2 cores; `dpi log verify` of both chains: "
        f"{checked:,} records in {seconds:.1f} s"
    )
