"""Sectoral platform: validation-rule analysis over a district x 12 months x 20 rules.

Target: `POST /api/dataAnalysis/validationRules` for one district of the national hierarchy
(about 100 facilities), the 12 months of a year and 20 monthly rules, median < 500 ms. The
values (8 elements x 12 months for every facility of two districts, about 19,000) go in through
`POST /api/dataValueSets`; the rules through `POST /api/metadata`. The figure is reported next
to the same server's `/healthz` median, measured in the same run.

Run: `.venv/bin/python -m bench.validation` (about a minute). Loopback only; starts and stops its
own uvicorn process on a free port with a temporary data directory.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import cpu_seconds, free_port, start_uvicorn, stop

AUTH = ("admin", "district")
TARGET_MS = 500.0
RUNS = 15
YEAR = 2024
ELEMENTS = [
    "u8jzPde0Igx", "Ld6GncfBAep", "fJBd0Kh8oOO", "L8dKLzdocJ2", "isAjIhKtJ0R", "lgLKOmxgJTe",
    "KdNnFRIBXuD", "L7DxtpYlSXp",
]  # fmt: skip
OPERATORS = [
    "greater_than_or_equal_to", "less_than_or_equal_to", "not_equal_to", "greater_than",
    "less_than", "equal_to", "compulsory_pair", "exclusive_pair",
]  # fmt: skip
STRATEGIES = ["SKIP_IF_ALL_VALUES_MISSING", "SKIP_IF_ANY_VALUE_MISSING", "NEVER_SKIP"]


def _rules() -> list[dict[str, Any]]:
    rules = []
    for i in range(20):
        a, b, c = ELEMENTS[i % 8], ELEMENTS[(i + 3) % 8], ELEMENTS[(i + 5) % 8]
        rules.append({
            "id": f"BenchRule{i:02d}", "name": f"Bench rule {i}", "periodType": "Monthly",
            "operator": OPERATORS[i % len(OPERATORS)], "importance": "MEDIUM",
            "leftSide": {"expression": f"#{{{a}}} + #{{{b}}}",
                         "missingValueStrategy": STRATEGIES[i % 3]},
            "rightSide": {"expression": f"#{{{c}}} * 2 + {i}",
                          "missingValueStrategy": "SKIP_IF_ALL_VALUES_MISSING"},
            **({"organisationUnitLevels": [3]} if i % 5 == 0 else {}),
        })  # fmt: skip
    return rules


def _units(client: httpx.Client, **params: str) -> list[str]:
    found = client.get(
        "/api/organisationUnits", params={**params, "fields": "id", "paging": "false"}
    )
    found.raise_for_status()
    return [u["id"] for u in found.json()["organisationUnits"]]


def _median_ms(client: httpx.Client, path: str, body: dict[str, Any] | None) -> float:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        response = client.post(path, json=body) if body is not None else client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return statistics.median(times)


def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="dpi-bench-vr-"))
    port = free_port()
    env = {
        "DPI_SECTORAL_PLATFORM_DATABASE_URL": f"sqlite:///{data_dir / 'sp.db'}",
        "DPI_SECTORAL_PLATFORM_FACILITY_SIZE": "national",
        "DPI_SECTORAL_PLATFORM_FACILITY_SYNC_ON_START": "false",
        "DPI_SECTORAL_PLATFORM_SUBSCRIBE_CIVIL_EVENTS": "false",
        "DPI_DATA_DIR": str(data_dir),
        "DPI_LOG_LEVEL": "WARNING",
    }
    process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=120)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=120)
        districts = _units(client, level="3")[:2]
        rng = random.Random(1)
        values = []
        for district in districts:
            for facility in _units(client, filter=f"parent.id:eq:{district}"):
                for month in range(1, 13):
                    for de in ELEMENTS:
                        if rng.random() < 0.1:
                            continue
                        value = str(rng.randint(0, 80))
                        period = f"{YEAR}{month:02d}"
                        row = {"dataElement": de, "period": period, "orgUnit": facility}
                        values.append({**row, "value": value})
        client.post("/api/dataValueSets", json={"dataValues": values}).raise_for_status()
        imported = client.post("/api/metadata", json={"validationRules": _rules()})
        imported.raise_for_status()
        body = {"ou": districts[0], "startDate": f"{YEAR}-01-01", "endDate": f"{YEAR}-12-31"}
        first = client.post("/api/dataAnalysis/validationRules", json=body)
        first.raise_for_status()
        found = first.json()
        violations = len(found) if isinstance(found, list) else 0
        healthz = _median_ms(client, "/healthz", None)
        cpu_before = cpu_seconds(process.pid)
        median = _median_ms(client, "/api/dataAnalysis/validationRules", body)
        cpu_ms = (cpu_seconds(process.pid) - cpu_before) * 1000 / RUNS
        print(f"{len(values):,} values, 20 rules, 12 months, one district; {violations} violations"
              " returned (cap 500)")  # fmt: skip
        print(f"healthz median {healthz:.2f} ms; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")  # fmt: skip
        verdict = "OK" if median < TARGET_MS else "SLOW"
        print(
            f"validation-rule analysis median {median:.1f} ms = {median / healthz:.1f}x healthz, "
            f"{median / TARGET_MS:.2f} of the {TARGET_MS:.0f} ms target  {verdict}",
            flush=True,
        )
        print(
            f"server CPU per analysis {cpu_ms:.1f} ms = {cpu_ms / TARGET_MS:.2f} of the target "
            "(the wall figure on an idle machine is close to this)",
            flush=True,
        )
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
