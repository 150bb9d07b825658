"""Time from `dpi up` to all-ready, and resident memory of every service once ready.

Both launch modes (services forked from the preloader; each spawned afresh, as before the
preloader), on a fresh data directory (first start, seeding; forked also from the seed cache)
and again on the same data, compared in the same run with one minimal FastAPI app started as its
own uvicorn process (the floor).

"First start, seeding" is the first `dpi up` after `make install`/`make runtime`: a fresh data
directory, an empty seed cache (every service creates its schema and seeds), the project's
modules compiled by the install (the bench says whether they are: without that, every process
compiles what it imports). What a fresh machine adds is a cold OS file cache, not measured here.
Run: `.venv/bin/python -m bench.startup`.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.children import Child
from sandbox.launcher import SEED_CACHE_ENV, Launcher, free_offset
from sandbox.processes import LaunchMode
from services.kernel.topology import Topology, load_topology

MINIMAL_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/readyz")
def readyz() -> dict[str, str]:
    return {"status": "ready"}
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (the interpreter, the venv's libraries) are split
    between the processes that map them, so the sum over processes is the real total."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def minimal_floor(workdir: Path, port: int) -> tuple[float, int]:
    (workdir / "minimal_app.py").write_text(MINIMAL_APP)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "minimal_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=workdir,
    )
    try:
        deadline = started + 30
        with httpx.Client(timeout=1) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.02)
        elapsed = time.monotonic() - started
        return elapsed, rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(10)


def project_compiled() -> bool:
    """Are the project's modules compiled, as `make install` leaves them (bytecode up to date)?"""
    root = Path(__file__).resolve().parents[1]
    sources = [root / "services" / "kernel" / "app.py", root / "sandbox" / "preload.py"]
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.is_file() or compiled.stat().st_mtime < source.stat().st_mtime:
            return False
    return True


@dataclass
class Run:
    starts: dict[str, float]  # seconds to all ready, by kind of start
    cpu: dict[str, float]  # CPU seconds of every process it started, from start to stop
    pss_kib: dict[str, int]  # per service once ready, on the first start
    rss_kib: dict[str, int]
    ready: dict[str, dict[str, float]]  # by kind of start: seconds from start to each ready


def launch(topology: Topology, tmp: Path, offset: int, mode: LaunchMode) -> Run:
    """Fork: a first start that seeds (and fills an empty seed cache), a first start on another
    data directory (from the cache), a later start. Spawn, as before this launcher: a first start
    seeding without a cache, a later start."""
    cache = tmp / f"{mode}-seed-cache"
    os.environ[SEED_CACHE_ENV] = str(cache) if mode == "fork" else ""
    kinds = {"first start, seeding": tmp / f"{mode}-a"}
    if mode == "fork":
        kinds["first start, seed cached"] = tmp / f"{mode}-b"
    kinds["later start"] = tmp / f"{mode}-a"
    starts: dict[str, float] = {}
    cpu: dict[str, float] = {}
    pss: dict[str, int] = {}
    rss: dict[str, int] = {}
    ready: dict[str, dict[str, float]] = {}
    for kind, data_dir in kinds.items():
        launcher = Launcher(topology, data_dir, offset, mode=mode)
        before = children_cpu()
        started = time.monotonic()
        launcher.start()
        times = ready[kind] = {"(launcher started)": time.monotonic() - started}
        try:
            launcher.wait_ready(timeout=120, on_ready=note_ready(times, started))
            starts[kind] = time.monotonic() - started
            if not pss:
                pss = {c.spec.name: pss_kib(c.process.pid) for c in launcher.children}
                rss = {c.spec.name: rss_kib(c.process.pid) for c in launcher.children}
                if launcher.preloader is not None:  # kept where it cannot hand its children over
                    pss["(preloader)"] = pss_kib(launcher.preloader.process.pid)
        finally:
            launcher.stop()
        cpu[kind] = children_cpu() - before
    return Run(starts, cpu, pss, rss, ready)


def note_ready(times: dict[str, float], started: float) -> Callable[[Child, float], None]:
    def note(child: Child, _: float) -> None:
        times[child.spec.name] = time.monotonic() - started

    return note


def children_cpu() -> float:
    """User and system seconds of this process's children that have ended and been waited for:
    spawned services, the preloader, and forked services once adopted (Linux)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    topology = load_topology()
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    compiled = "yes" if project_compiled() else "NO (run `make install`: each start compiles)"
    print(f"project modules compiled, as `make install` leaves them: {compiled}")
    saved = os.environ.get(SEED_CACHE_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        offset = free_offset(topology)
        floor_time, floor_rss = minimal_floor(Path(tmp), 8000 + offset)
        try:
            runs = {mode: launch(topology, Path(tmp), offset, mode) for mode in ("fork", "spawn")}
        finally:
            os.environ.pop(SEED_CACHE_ENV, None)
            if saved is not None:
                os.environ[SEED_CACHE_ENV] = saved
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"services: {len(topology.services)}; minimal FastAPI app: {floor_time:.2f} s to ready")
    print("dpi up -> all ready (targets: <= 3 s on a quiet machine, <= 5x the minimal app):")
    for mode, run in runs.items():
        for kind, took in run.starts.items():
            ratio = took / floor_time
            print(
                f"  [{mode}] {kind:<26} {took:5.2f} s = {ratio:4.1f}x the minimal app; "
                f"CPU {run.cpu[kind]:5.2f} s"
            )
    print("when each was ready, seconds from the start (fork; '(launcher started)': preloaded):")
    for kind, times in runs["fork"].ready.items():
        print(f"  {kind:<26} " + ", ".join(f"{n} {t:.2f}" for n, t in times.items()))
    print("memory once ready, PSS (shared pages counted once; target < 300 MiB):")
    for mode, run in runs.items():
        total_pss = sum(run.pss_kib.values()) / 1024
        total_rss = sum(run.rss_kib.values()) / 1024
        print(f"  [{mode}] {total_pss:.0f} MiB (RSS summed: {total_rss:.0f} MiB)")
        for name, kib in run.pss_kib.items():
            rss = run.rss_kib.get(name)
            shown = f"RSS {rss / 1024:4.0f} MiB ({rss / floor_rss:.1f}x minimal), " if rss else ""
            print(f"  [{mode}]   {name:<18} {shown}PSS {kib / 1024:4.0f} MiB")
    fork, spawned = runs["fork"], runs["spawn"]
    first, later = "first start, seeding", "later start"
    print(
        f"fork / spawn, same run: first start {fork.starts[first] / spawned.starts[first]:.2f}, "
        f"first start from the seed cache "
        f"{fork.starts['first start, seed cached'] / spawned.starts[first]:.2f}, later start "
        f"{fork.starts[later] / spawned.starts[later]:.2f}, PSS "
        f"{sum(fork.pss_kib.values()) / sum(spawned.pss_kib.values()):.2f}; CPU seconds: first "
        f"start {fork.cpu[first] / spawned.cpu[first]:.2f}, from the seed cache "
        f"{fork.cpu['first start, seed cached'] / spawned.cpu[first]:.2f}, later start "
        f"{fork.cpu[later] / spawned.cpu[later]:.2f}"
    )
    print(f"  minimal FastAPI app RSS: {floor_rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
