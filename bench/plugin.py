"""The pytest plugin as an integrator meets it: session start to the first test (against
`dpi up -d` to ready on the same machine) and `dpi_sandbox.reset()` (target <= 300 ms on SQLite).

pytest runs with only this plugin (`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 -p sandbox.pytest_plugin`),
as in an integrator's environment with the wheel: the checkout's dev plugins (hypothesis,
schemathesis, xdist, anyio) cost about a CPU second at every pytest start and are not ours.

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
from typing import Any

from sandbox.launcher import free_offset
from services.kernel.topology import load_topology

RESETS = 10
ONLY_THE_PLUGIN = ["-p", "no:cacheprovider", "-p", "sandbox.pytest_plugin"]
CONFTEST = """
import time

COLLECTED = []


def pytest_collection_finish(session):
    COLLECTED.append(time.time())  # the fixture starts the sandbox next
"""
ADAPTER_TEST = """
import json, os, time

from conftest import COLLECTED


def test_first(dpi_sandbox):
    first = time.time()
    modes = sorted({child.how for child in dpi_sandbox.launcher.children})
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
        json.dump({"first_test": first, "collected": COLLECTED[0], "resets": resets,
                   "modes": modes}, out)
"""
TRIVIAL_TEST = "def test_nothing():\n    pass\n"


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


def pytest_seconds(suite: Path, env: dict[str, str]) -> float:
    """Wall time of one `pytest` session in `suite` with only the sandbox's plugin."""
    env = {**{k: v for k, v in os.environ.items() if k != "DPI_SANDBOX_URL"}, **env}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    started = time.time()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *ONLY_THE_PLUGIN],
        cwd=suite,
        env=env,
        check=True,
        capture_output=True,
    )
    return started


def plugin_run(workdir: Path) -> dict[str, Any]:
    suite = workdir / "adapter"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / "test_adapter.py").write_text(ADAPTER_TEST)
    out = workdir / "result.json"
    started = pytest_seconds(suite, {"BENCH_OUT": str(out), "BENCH_RESETS": str(RESETS)})
    result: dict[str, Any] = json.loads(out.read_text())
    result["to_first_test"] = result["first_test"] - started
    result["to_fixture"] = result["collected"] - started
    return result


def bare_pytest_seconds(workdir: Path) -> float:
    """The same pytest start with a test that uses no sandbox: pytest's own share."""
    suite = workdir / "bare"
    suite.mkdir()
    (suite / "test_nothing.py").write_text(TRIVIAL_TEST)
    started = pytest_seconds(suite, {})
    return time.time() - started


def main() -> None:
    print(f"load before (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        up = dpi_up_seconds(Path(tmp))
        run = plugin_run(Path(tmp))
        bare = bare_pytest_seconds(Path(tmp))
    resets = run["resets"]
    first, *later = [float(r["wall"]) * 1000 for r in resets]
    walls = sorted(later)
    to_first, to_fixture = run["to_first_test"], run["to_fixture"]
    print(f"load after (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"dpi up -d -> ready: {up:.2f} s")
    print(
        f"pytest start -> first test (fixture started the sandbox): {to_first:.2f} s "
        f"({to_first - up:+.2f} s against dpi up, ratio {to_first / up:.2f}; target <= +1 s)"
    )
    print(
        f"  of which pytest start -> fixture: {to_fixture:.2f} s; fixture -> first test "
        f"{to_first - to_fixture:.2f} s (ratio to dpi up {(to_first - to_fixture) / up:.2f}); "
        f"launch mode {', '.join(run['modes'])}"
    )
    print(f"  a bare pytest session (one trivial test, same options): {bare:.2f} s")
    print(
        f"reset(): first {first:.0f} ms, then over {len(walls)} runs median "
        f"{statistics.median(walls):.0f} ms, min {walls[0]:.0f}, max {walls[-1]:.0f} "
        f"(first / later median {first / statistics.median(walls):.2f}; target <= 300 ms)"
    )
    services: dict[str, list[float]] = {}
    for later_run in resets[1:]:
        for name, ms in later_run["services"].items():
            services.setdefault(name, []).append(float(ms))
    for name, values in services.items():
        print(
            f"  {name:<18} first {resets[0]['services'][name]:5.0f} ms, later median "
            f"{statistics.median(values):5.0f} ms (inside the service)"
        )


if __name__ == "__main__":
    main()
