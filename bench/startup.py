"""Time from `dpi up` to all-ready, and resident memory of every service once ready.

Compared, in the same run, with one minimal FastAPI app started the same way (the floor).
Run: `.venv/bin/python -m bench.startup`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from sandbox.launcher import Launcher, free_offset
from services.kernel.topology import load_topology

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


def main() -> None:
    topology = load_topology()
    with tempfile.TemporaryDirectory() as tmp:
        offset = free_offset(topology)
        floor_time, floor_rss = minimal_floor(Path(tmp), 8000 + offset)
        launcher = Launcher(topology, Path(tmp) / "data", offset)
        started = time.monotonic()
        launcher.start()
        try:
            launcher.wait_ready(timeout=120)
            ready_after = time.monotonic() - started
            per_service = {c.spec.name: rss_kib(c.process.pid) for c in launcher.children}
            pss = {c.spec.name: pss_kib(c.process.pid) for c in launcher.children}
        finally:
            launcher.stop()
        again = Launcher(topology, Path(tmp) / "data", offset)
        started = time.monotonic()
        again.start()
        try:
            again.wait_ready(timeout=120)
            restart_after = time.monotonic() - started
        finally:
            again.stop()
    total_mib = sum(per_service.values()) / 1024
    print(f"services: {len(per_service)}")
    print(
        f"dpi up -> all ready: {ready_after:.2f} s on first start (seeding), "
        f"{restart_after:.2f} s on a later start  (target < 5 s)"
    )
    print(
        f"  minimal FastAPI app, same run: {floor_time:.2f} s "
        f"(ratio {ready_after / floor_time:.1f}x)"
    )
    total_pss = sum(pss.values()) / 1024
    print(f"total memory once ready (PSS, shared pages counted once): {total_pss:.0f} MiB")
    print(
        f"  (target < 400 MiB; RSS summed per process counts shared pages 5x: {total_mib:.0f} MiB)"
    )
    print(f"  minimal FastAPI app RSS: {floor_rss / 1024:.0f} MiB; per service:")
    for name, kib in per_service.items():
        print(
            f"    {name:<18} RSS {kib / 1024:4.0f} MiB ({kib / floor_rss:.1f}x the minimal app), "
            f"PSS {pss[name] / 1024:4.0f} MiB"
        )


if __name__ == "__main__":
    main()
