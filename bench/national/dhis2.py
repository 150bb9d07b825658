"""Health platform (DHIS2) aggregate data at national size: the national 12-month analytics
query and the data value import rate as the stored values grow. Values up to each size are
COPYed into the service's PostgreSQL database (the rows the import writes, the district rollup
recomputed from them by the service's own `rebuild`), then a sample is imported through
`POST /api/dataValueSets` in one request (the service imports it in batches of 10,000, each
written while the next is parsed and checked: the rate), then the query of
`bench.sectoral_platform` runs (its total checked against the values stored for that year)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
from sqlalchemy import create_engine

from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from bench.national import pg
from bench.national.measure import Part, verdict
from bench.sectoral_platform import AUTH, COC, YEAR, _analytics, _metadata, value_set_body
from services.sectoral_platform.aggregate.rollup import rebuild

COLUMNS = ["data values", "analytics median", "analytics p90", "total ok", "import values/s",
           "import values per service CPU s", "per service + PostgreSQL CPU s", "load average",
           "COPY + rollup s"]  # fmt: skip
FACILITIES = 10_000
IMPORT_SAMPLE = 50_000
STAMP = "2026-01-01T00:00:00.000"
_ENDS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Values:
    """The i-th value: element fastest, then month, then facility, then years back from YEAR."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.elements: list[str] = metadata["elements"]
        self.facilities: list[str] = metadata["facilities"][:FACILITIES]
        self.paths: dict[str, str] = metadata["paths"]
        self.year_total = 0.0  # of the values of YEAR generated so far

    def value(self, i: int) -> tuple[str, str, str, int]:
        rest, d = divmod(i, len(self.elements))
        rest, m = divmod(rest, 12)
        back, f = divmod(rest, len(self.facilities))
        v = 1 + (f * 7 + m * 3 + d) % 97
        if back == 0:
            self.year_total += v
        return self.elements[d], f"{YEAR - back}{m + 1:02d}", self.facilities[f], v

    def rows(self, start: int, count: int) -> Iterator[tuple[Any, ...]]:
        for i in range(start, start + count):
            de, pe, ou, v = self.value(i)
            year, month = int(pe[:4]), int(pe[4:])
            end = 28 if month == 2 and year % 4 else _ENDS[month - 1]
            yield (de, pe, ou, COC, COC, str(v), False, self.paths[ou],
                   f"{pe[:4]}-{pe[4:]}-01", f"{pe[:4]}-{pe[4:]}-{end:02d}", float(v), "bench",
                   STAMP, STAMP)  # fmt: skip


def bulk(sa_url: str, url: str, values: Values, start: int, count: int) -> None:
    columns = ("de", "pe", "ou", "co", "ao", "value", "followup", "ou_path", "pe_start",
               "pe_end", "num", "stored_by", "created", "last_updated")  # fmt: skip
    pg.copy_rows(url, "data_value", columns, values.rows(start, count))
    engine = create_engine(sa_url)
    try:
        with engine.begin() as connection:
            rebuild(connection)  # what the import keeps current in its own transaction
    finally:
        engine.dispose()
    pg.execute(url, "ANALYZE data_value")
    pg.execute(url, "ANALYZE data_value_rollup")


def import_one(client: httpx.Client, rows: list[tuple[str, str, str, int]]) -> float:
    """Values per second of `rows` sent as one data value set, as a national file arrives."""
    body = value_set_body(rows)
    began = time.perf_counter()
    response = client.post(
        "/api/dataValueSets", content=body, headers={"Content-Type": "application/json"}
    )
    elapsed = time.perf_counter() - began
    summary = response.json()["response"]
    if response.status_code != 200 or summary["importCount"]["imported"] != len(rows):
        raise RuntimeError(f"import failed: {response.status_code} {str(summary)[:500]}")
    return len(rows) / elapsed


def run(sizes: Sequence[int], part: Part) -> None:
    with pg.database("dhis2") as (sa_url, url), tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            "DPI_SECTORAL_PLATFORM_DATABASE_URL": sa_url,
            "DPI_SECTORAL_PLATFORM_FACILITY_SIZE": "national",
            "DPI_SECTORAL_PLATFORM_NATIONAL_FACILITIES": str(FACILITIES),
            "DPI_DATA_DIR": tmp,
            "DPI_LOG_LEVEL": "WARNING",
        }
        process = start_uvicorn("services.sectoral_platform.main:app", port, env, timeout=180)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=600)
        try:
            metadata = _metadata(client)
            values = Values(metadata)
            part.progress(f"{len(values.elements)} summed elements, {len(values.facilities):,} "
                          "facilities")  # fmt: skip
            stored = 0
            for size in sizes:
                part.check(f"before {size:,} values")
                sample = min(IMPORT_SAMPLE, size // 2)
                began = time.perf_counter()
                bulk(sa_url, url, values, stored, size - stored - sample)
                loaded = time.perf_counter() - began
                part.progress(f"COPY of {size - stored - sample:,} values + rollup: {loaded:.1f} s")
                rows = [values.value(i) for i in range(size - sample, size)]
                spent, backends = cpu_seconds(process.pid), pg.backend_cpu(url)
                rate = import_one(client, rows)
                service = cpu_seconds(process.pid) - spent
                database = pg.backend_cpu_since(url, backends)
                load = os.getloadavg()[0]
                per_cpu = sample / service
                part.progress(f"import CPU: service {service:.2f} s, PostgreSQL {database:.2f} s")
                stored = size
                part.progress(f"{sample:,} values imported through the API: {rate:,.0f}/s")
                median, p90, total = _analytics(client, metadata, 11)
                ok = "yes" if abs(total - values.year_total) < 0.5 else f"NO ({total:,.0f})"
                part.row(size, f"{median:.1f} ms", f"{p90:.1f} ms", ok, f"{rate:,.0f}",
                         f"{per_cpu:,.0f}", f"{sample / (service + database):,.0f}", f"{load:.1f}",
                         f"{loaded:.1f}")  # fmt: skip
                part.progress(f"{size:,} values: analytics median {median:.1f} ms")
        finally:
            client.close()
            stop(process)
    if part.rows:
        median = float(part.rows[-1][1].split()[0])
        rate = float(part.rows[-1][4].replace(",", ""))
        part.notes.append(
            f"at the largest size: analytics median {median:.1f} ms (target < 200 ms: "
            f"{verdict(median < 200)}), import {rate:,.0f} values/s (target >= 20,000: "
            f"{verdict(rate >= 20_000)}); {IMPORT_SAMPLE:,} values per import sample; values per "
            "service CPU s: the import's rate were the service to have a core to itself"
        )
