"""Time from `dpi up` to all-ready, and resident memory of every service once ready.

Both launch modes (services forked from the preloader; each spawned afresh) on a fresh data
directory (first start, seeding) and again on the same data, compared in the same run with one
minimal FastAPI app started as its own uvicorn process (the floor).
Run: `.venv/bin/python -m bench.startup`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.launcher import Launcher, free_offset
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


@dataclass
class Run:
    first: float  # seconds to all ready on a fresh data directory (seeding)
    later: float  # on the same data again
    pss_kib: dict[str, int]  # per service, plus the preloader while it runs
    rss_kib: dict[str, int]


def launch(topology: Topology, data_dir: Path, offset: int, mode: LaunchMode) -> Run:
    times: list[float] = []
    pss: dict[str, int] = {}
    rss: dict[str, int] = {}
    for attempt in range(2):
        launcher = Launcher(topology, data_dir, offset, mode=mode)
        started = time.monotonic()
        launcher.start()
        try:
            launcher.wait_ready(timeout=120)
            times.append(time.monotonic() - started)
            if attempt == 0:
                pss = {c.spec.name: pss_kib(c.process.pid) for c in launcher.children}
                rss = {c.spec.name: rss_kib(c.process.pid) for c in launcher.children}
                if launcher.preloader is not None:
                    pss["(preloader)"] = pss_kib(launcher.preloader.process.pid)
        finally:
            launcher.stop()
    return Run(times[0], times[1], pss, rss)


def main() -> None:
    topology = load_topology()
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        offset = free_offset(topology)
        floor_time, floor_rss = minimal_floor(Path(tmp), 8000 + offset)
        runs = {
            mode: launch(topology, Path(tmp) / mode, offset, mode) for mode in ("fork", "spawn")
        }
    print(f"services: {len(topology.services)}; minimal FastAPI app: {floor_time:.2f} s to ready")
    for mode, run in runs.items():
        total_pss = sum(run.pss_kib.values()) / 1024
        print(
            f"[{mode}] dpi up -> all ready: {run.first:.2f} s first start (seeding) = "
            f"{run.first / floor_time:.1f}x the minimal app; {run.later:.2f} s later start = "
            f"{run.later / floor_time:.1f}x  (targets: <= 3 s quiet, <= 5x)"
        )
        print(
            f"[{mode}]   memory once ready, PSS (shared pages counted once): {total_pss:.0f} MiB"
            f"  (target < 300 MiB); RSS summed: {sum(run.rss_kib.values()) / 1024:.0f} MiB"
        )
        for name, kib in run.pss_kib.items():
            rss = run.rss_kib.get(name)
            shown = f"RSS {rss / 1024:4.0f} MiB ({rss / floor_rss:.1f}x minimal), " if rss else ""
            print(f"[{mode}]     {name:<18} {shown}PSS {kib / 1024:4.0f} MiB")
    fork, spawned = runs["fork"], runs["spawn"]
    print(
        f"fork / spawn: first start {fork.first / spawned.first:.2f}, later start "
        f"{fork.later / spawned.later:.2f}, PSS "
        f"{sum(fork.pss_kib.values()) / sum(spawned.pss_kib.values()):.2f}"
    )
    print(f"  minimal FastAPI app RSS: {floor_rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
