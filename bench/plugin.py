"""The pytest plugin as an integrator meets it: session start to the first test (against
`dpi up -d` to ready on the same machine) and `dpi_sandbox.reset()` (target <= 300 ms on SQLite).

Run: `.venv/bin/python -m bench.plugin`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox.launcher import free_offset
from services.kernel.topology import load_topology

RESETS = 10
ADAPTER_TEST = """
import json, os, time

def test_first(dpi_sandbox):
    first = time.time()
    platform = dpi_sandbox.client("sectoral_platform")
    units = platform.get("/api/organisationUnits", params={"level": 4, "fields": "id"}).json()
    key = {"de": dpi_sandbox.dhis2.uid("ANC 1st visit"), "pe": "202401",
           "ou": units["organisationUnits"][0]["id"]}
    resets = []
    for _ in range(int(os.environ["BENCH_RESETS"])):
        assert platform.post("/api/dataValues", params={**key, "value": "7"}).status_code == 201
        started = time.perf_counter()
        per_service = dpi_sandbox.reset()
        resets.append({"wall": time.perf_counter() - started, "services": per_service})
        assert platform.get("/api/dataValues", params=key).status_code == 404
    with open(os.environ["BENCH_OUT"], "w") as out:
        json.dump({"first_test": first, "resets": resets}, out)
"""


def dpi_up_seconds(workdir: Path) -> float:
    """`dpi up -d` on a fresh data directory until it returns (every service ready), then down."""
    data = workdir / "up-data"
    args = ["--data-dir", str(data), "--port-offset", str(free_offset(load_topology()))]
    dpi = [sys.executable, "-m", "sandbox.cli"]
    started = time.monotonic()
    subprocess.run([*dpi, "up", "-d", *args], check=True, capture_output=True)
    elapsed = time.monotonic() - started
    subprocess.run([*dpi, "down", "--data-dir", str(data)], check=True, capture_output=True)
    return elapsed


def plugin_run(workdir: Path) -> tuple[float, list[dict[str, object]]]:
    suite = workdir / "adapter"
    suite.mkdir()
    (suite / "test_adapter.py").write_text(ADAPTER_TEST)
    out = workdir / "result.json"
    env = {k: v for k, v in os.environ.items() if k != "DPI_SANDBOX_URL"}
    env.update(BENCH_OUT=str(out), BENCH_RESETS=str(RESETS))
    started = time.time()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=suite,
        env=env,
        check=True,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    return result["first_test"] - started, result["resets"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        up = dpi_up_seconds(Path(tmp))
        to_first_test, resets = plugin_run(Path(tmp))
    first, *later = [float(str(r["wall"])) * 1000 for r in resets]
    walls = sorted(later)
    print(f"load (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"dpi up -d -> ready: {up:.2f} s")
    print(
        f"pytest start -> first test (fixture started the sandbox): {to_first_test:.2f} s "
        f"({to_first_test - up:+.2f} s against dpi up; target <= +1 s)"
    )
    print(
        f"reset(): first {first:.0f} ms (seeds through each service's code), then over "
        f"{len(walls)} runs median {statistics.median(walls):.0f} ms, min {walls[0]:.0f}, "
        f"max {walls[-1]:.0f} (restores the seeded rows; target <= 300 ms)"
    )
    services: dict[str, list[float]] = {}
    for run in resets:
        per_service = run["services"]
        assert isinstance(per_service, dict)
        for name, ms in per_service.items() if run is not resets[0] else ():
            services.setdefault(name, []).append(float(ms))
    for name, values in services.items():
        median = statistics.median(values)
        print(f"  {name:<18} median {median:5.0f} ms (inside the service, later runs)")


if __name__ == "__main__":
    main()
