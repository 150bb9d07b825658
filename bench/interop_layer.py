"""The mediator's cost: one provider endpoint called directly and through the mediator (message
log metadata-only and full), side by side in one run.

Reports throughput through the mediator as a ratio of direct (targets >= 0.5, issue 13, and
>= 0.7, issue 19), its p99 at 32 connections against direct's (target <= 2x) and the added
median latency at one connection (target <= 2 ms), plus references: two one-route proxies that
authenticate and log nothing (`bench.interop_references`: FastAPI with aiohttp, and a bare ASGI
hop on the mediator's own forwarding client, the floor of a Python hop with it), Debian's nginx
as a plain reverse proxy when it is installed (CPU per request target: the mediator <= 6x
nginx's), and the mediator's own `/healthz`. Every target is measured once per round, rounds
interleave, and each ratio is taken against the direct figure of the same round (median and
range over the rounds are printed), so load from other processes on a shared machine skews the
ratios less.
Run: `.venv/bin/python -m bench.interop_layer` (uses `wrk` when installed, else aiohttp).
Loopback only, bounded in time (about 3 minutes); starts and stops its own uvicorn processes.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from fastapi import FastAPI

from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from bench.interop_references import NGINX, start_nginx
from services.kernel.credentials import client_key
from services.kernel.serving import HTTP_PROTOCOL

SECONDS = 3
LATENCY_SECONDS = 2
ROUNDS = 5  # interleaved rounds; ratios are per round (the machine may be shared)
CONNECTIONS = 32
CLIENT = "DPI/GOV/MOH/hmis"
PROVIDER = "DPI/GOV/CRVS/registries"
PATH = "/items?limit=20"
ITEMS = [{"id": i, "name": f"facility-{i}", "level": "district", "active": True} for i in range(20)]


def provider_app() -> FastAPI:
    """The provider: a FastAPI endpoint returning a 20-item JSON list."""
    app = FastAPI()

    @app.get("/items")
    async def items(limit: int = 20) -> list[dict[str, Any]]:
        return ITEMS[:limit]

    return app


def start_mediator(
    tmp: Path,
    provider_url: str,
    bodies: str,
    *,
    name: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """A mediator on a free port with one route to `provider_url`; its data directory is
    `tmp/mediator-<name>` (name: `bodies`), `env` adds settings (a database URL, a replica)."""
    data = tmp / f"mediator-{name or bodies}"
    data.mkdir()
    catalogue = data / "catalogue.yaml"
    catalogue.write_text(
        yaml.safe_dump(
            {
                "services": [
                    {"provider": PROVIDER, "serviceCode": "bench", "baseUrl": provider_url}
                ],
                "rights": [{"client": CLIENT, "provider": PROVIDER, "serviceCode": "bench"}],
            }
        )
    )
    port = free_port()
    settings = {
        "DPI_DATA_DIR": str(data),
        "DPI_LOG_LEVEL": "WARNING",
        "DPI_INTEROP_LAYER_CATALOGUE_PATH": str(catalogue),
        "DPI_INTEROP_LAYER_MESSAGE_LOG_BODIES": bodies,
        **(env or {}),
    }
    return start_uvicorn(
        "services.interop_layer.main:app", port, settings, http=HTTP_PROTOCOL, timeout=120
    ), port


AIOHTTP_PROXY = "one-route aiohttp proxy"
RAW_PROXY = "one-route proxy, own client"
REFERENCES = {
    AIOHTTP_PROXY: "bench.interop_references:aiohttp_proxy_app",
    RAW_PROXY: "bench.interop_references:raw_proxy_app",
}
HEADERS = {"X-Road-Client": CLIENT, "X-DPI-Client-Key": client_key(CLIENT)}
LUA = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in HEADERS.items())


Load = tuple[float, float, int, float]  # req/s, median ms, error answers, p99 ms


def _wrk(url: str, seconds: int, connections: int, script: Path) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    bad = int(errors.group(1)) if errors else 0
    return rate, _percentile(output, "50%"), bad, _percentile(output, "99%")


def _percentile(output: str, which: str) -> float:
    value, unit = re.search(which + r"\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _aiohttp(url: str, seconds: int, connections: int) -> Load:
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    bad = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal bad
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            async with session.get(url, headers=HEADERS) as response:
                await response.read()
                bad += response.status >= 400
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        elapsed = time.monotonic() - began
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    return len(latencies) / elapsed, statistics.median(latencies), bad, p99


def measure(url: str, seconds: int, connections: int, script: Path) -> Load:
    """Requests/s, median latency (ms), error answers and p99 latency (ms) for `url`."""
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections, script)
    return asyncio.run(_aiohttp(url, seconds, connections))


Result = tuple[float, float, int, float, float]  # Load's figures and server CPU us/req


def measured(url: str, pid: int, seconds: int, connections: int, script: Path) -> Result:
    """`measure` plus the CPU the serving process spent per request meanwhile."""
    before = cpu_seconds(pid)
    rate, median, errors, p99 = measure(url, seconds, connections, script)
    after = cpu_seconds(pid)
    if rate <= 0:
        return rate, median, errors, p99, float("nan")
    return rate, median, errors, p99, (after - before) / (rate * seconds) * 1_000_000


def main() -> None:
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="dpi-bench-interop-") as raw:
        tmp = Path(raw)
        script = tmp / "headers.lua"
        script.write_text(LUA)
        try:
            provider_port = free_port()
            provider_url = f"http://127.0.0.1:{provider_port}"
            env = {"DPI_LOG_LEVEL": "WARNING"}
            processes.append(
                start_uvicorn(
                    "bench.interop_layer:provider_app", provider_port, env, factory=True, probe=PATH
                )
            )
            servers = {"direct": processes[0].pid}
            targets = {"direct": provider_url + PATH}
            for name, reference in REFERENCES.items():
                port = free_port()
                proxy_env = {"BENCH_PROXY_UPSTREAM": provider_url}
                process = start_uvicorn(
                    reference, port, proxy_env, factory=True, probe="/proxy" + PATH
                )
                processes.append(process)
                targets[name] = f"http://127.0.0.1:{port}/proxy{PATH}"
                servers[name] = process.pid
            nginx_port = free_port()
            nginx = start_nginx(provider_url, nginx_port, tmp)
            if nginx is not None:
                processes.append(nginx)
                targets[NGINX] = f"http://127.0.0.1:{nginx_port}/proxy{PATH}"
                servers[NGINX] = nginx.pid
            mediators: dict[str, int] = {}
            for bodies in ("metadata", "full"):
                process, port = start_mediator(tmp, provider_url, bodies)
                processes.append(process)
                mediators[bodies] = port
                targets[f"mediator, log {bodies}"] = (
                    f"http://127.0.0.1:{port}/r1/{PROVIDER}/bench{PATH}"
                )
                servers[f"mediator, log {bodies}"] = process.pid
            targets["mediator /healthz"] = f"http://127.0.0.1:{mediators['metadata']}/healthz"
            servers["mediator /healthz"] = servers["mediator, log metadata"]
            rounds = interleaved(targets, servers, SECONDS, CONNECTIONS, script)
            latency = interleaved(targets, servers, LATENCY_SECONDS, 1, script)
        finally:
            for process in processes:
                stop(process)
    report(rounds, latency)


def interleaved(
    targets: dict[str, str], servers: dict[str, int], seconds: int, connections: int, script: Path
) -> list[dict[str, Result]]:
    """ROUNDS rounds, each measuring every target once, back to back (direct first)."""
    return [
        {
            name: measured(url, servers[name], seconds, connections, script)
            for name, url in targets.items()
        }
        for _ in range(ROUNDS)
    ]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(rounds: list[dict[str, Result]], latency: list[dict[str, Result]]) -> None:
    """Every ratio is taken within one round, against that round's direct figure."""
    tool = "wrk" if shutil.which("wrk") else "aiohttp"
    print(
        f"load: {tool}, {CONNECTIONS} connections, {ROUNDS} interleaved rounds of {SECONDS}s per "
        f"target; latency: median at 1 connection, {ROUNDS} rounds of {LATENCY_SECONDS}s"
    )
    print("ratios and added latency: median over rounds (min-max), each against the same round")
    print("server CPU: CPU time of the answering process per request, as a ratio of the provider's")
    header = f"{'path':<26}{'req/s':>8}{'ratio to direct':>20}{'added ms (c=1)':>20}"
    print(header + f"{'p99 / direct p99':>20}{'server CPU':>20}{'errors':>8}")
    ratios: dict[str, list[float]] = {}
    added: dict[str, list[float]] = {}
    tails: dict[str, list[float]] = {}
    for name in rounds[0]:
        ratios[name] = [r[name][0] / r["direct"][0] for r in rounds]
        added[name] = [r[name][1] - r["direct"][1] for r in latency]
        tails[name] = [r[name][3] / r["direct"][3] for r in rounds]
        rate = statistics.median(r[name][0] for r in rounds)
        errors = sum(r[name][2] for r in rounds) + sum(r[name][2] for r in latency)
        cpu = spread([r[name][4] / r["direct"][4] for r in rounds])
        print(
            f"{name:<26}{rate:>8.0f}{spread(ratios[name]):>20}{spread(added[name]):>20}"
            f"{spread(tails[name]):>20}{cpu:>20}{errors:>8}"
        )
    references = [p for p in (AIOHTTP_PROXY, RAW_PROXY, NGINX) if p in rounds[0]]
    for bodies in ("metadata", "full"):
        name = f"mediator, log {bodies}"
        ratio = statistics.median(ratios[name])
        extra = statistics.median(added[name])
        tail = statistics.median(tails[name])
        to_raw = statistics.median(r[name][0] / r[RAW_PROXY][0] for r in rounds)
        cpu_to = {
            proxy: statistics.median(r[name][4] / r[proxy][4] for r in rounds)
            for proxy in references
        }
        cpus = ", ".join(f"{cpu_to[p]:.2f}x {p}'s" for p in references)
        print(
            f"log {bodies}: throughput {ratio:.2f} of direct (targets >= 0.50, >= 0.70: "
            f"{_met(ratio >= 0.5)}, {_met(ratio >= 0.7)}), {to_raw:.2f} of the bare hop on the "
            f"same client; added median {extra:.2f} ms (target <= 2 ms: {_met(extra <= 2.0)}); "
            f"p99 {tail:.2f}x direct's (target <= 2: {_met(tail <= 2.0)}); CPU per request {cpus}"
            + (f" (target <= 6x nginx's: {_met(cpu_to[NGINX] <= 6.0)})" if NGINX in cpu_to else "")
        )


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    main()
