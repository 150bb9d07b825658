"""The mediator's message log at national size on PostgreSQL: `dpi log verify` throughput and
the lookup of a record by trace id as the log grows. Records are the rows the mediator's writer
stores for batches of 5,000 (hash-chained, signed, the head mark), bulk-loaded by `logbulk`
with the writer's key while the mediator runs, which then exports the head anchor; the record mix
is `bench.console`'s; the lookups go to a mediator served on loopback
(`GET /admin/messagelog/traces/{id}`), and `dpi log verify` runs as the command users run."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.common import ROOT, free_port, start_uvicorn, stop
from bench.console import START, record
from bench.national import logbulk, pg
from bench.national.measure import Part, median, p95, timed, verdict
from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chains import ChainStart
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.runtime import InteropRuntime
from services.interop_layer.settings import InteropSettings
from services.kernel.db import libpq_url
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process

COLUMNS = ["records", "write records/s", "dpi log verify s", "verify records/s",
           "verify records per CPU s", "trace lookup median", "trace lookup p95"]  # fmt: skip
LOOKUPS = 200
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}


async def fill(settings: InteropSettings, start: int, count: int, part: Part) -> float:
    """Records start..start+count appended to the mediator's chain by the bulk path
    (`logbulk`), with the writer's key, while its mediator runs; the writer then takes the new
    head over and exports it as its anchor when it stops. Records/s."""
    app = create_app(settings)
    url = libpq_url(settings.database())
    began = time.perf_counter()
    async with serve_in_process(app):
        writer = runtime_of(app, InteropRuntime).message_log
        await writer.flush()

        def progress(done: int) -> None:
            if done % (logbulk.CHUNK * 20) == 0:
                part.progress(f"{start + done:,} records computed")
                part.check(f"while writing record {start + done:,}")

        position, digest, seq = logbulk.load(
            url,
            key=writer.key,
            key_id=writer.key_id,
            replica=writer.replica,
            head=(writer.head_seq, writer.head_hash),
            records=lambda i: record(i, START),
            start=start,
            count=count,
            progress=progress,
        )
        writer._restart_at(ChainStart(position, digest, 0, seq))  # as when it reopens
    return count / (time.perf_counter() - began)


def verify(data_dir: Path, sa_url: str) -> tuple[float, int]:
    """Seconds of `dpi log verify` and the records it reports verified."""
    command = [sys.executable, "-m", "sandbox.cli", "log", "verify", "--data-dir", str(data_dir),
               "--database-url", sa_url]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=7200)
    seconds = time.perf_counter() - began
    output = " ".join((done.stdout + done.stderr).split())
    found = re.search(r"verified: ([\d,]+) records", output)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"dpi log verify failed ({done.returncode}): {output[-600:]}")
    return seconds, int(found.group(1).replace(",", ""))


def _cpu() -> float:
    """CPU seconds of this process and its ended children (the verifier's range workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def walked(sa_url: str, size: int) -> tuple[float, float]:
    """Wall and CPU seconds of the verification walk itself (what `dpi log verify` runs: in
    ranges, one worker process per core, from 200,000 records); PostgreSQL's CPU not counted."""
    began, cpu = time.perf_counter(), _cpu()
    report = verify_database(sa_url)
    if not report.ok or report.checked != size:
        raise RuntimeError(f"verification failed: {report.reason} ({report.checked} checked)")
    return time.perf_counter() - began, _cpu() - cpu


def lookups(base: str, url: str) -> list[float]:
    traces = [
        t
        for (t,) in pg.execute(
            url, f"SELECT trace_id FROM im_log_record TABLESAMPLE SYSTEM (1) LIMIT {LOOKUPS}"
        )
    ]
    if len(traces) < LOOKUPS:
        traces += [
            t for (t,) in pg.execute(url, f"SELECT trace_id FROM im_log_record LIMIT {LOOKUPS}")
        ]
    traces = traces[:LOOKUPS]
    with httpx.Client(base_url=base, headers=ADMIN, timeout=60) as client:
        client.get(f"/admin/messagelog/traces/{traces[0]}").raise_for_status()
        position = iter(traces)

        def one() -> None:
            trace = next(position)
            found = client.get(f"/admin/messagelog/traces/{trace}")
            if found.status_code != 200 or len(found.json()["records"]) != 1:
                raise RuntimeError(f"trace {trace}: {found.status_code} {found.text[:200]}")

        return timed(one, len(traces))


def run(sizes: Sequence[int], part: Part) -> None:
    with pg.database("log") as (sa_url, url), tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = InteropSettings(database_url=sa_url, data_dir=data_dir, log_format="text",
                                   declared_subscriptions=False)  # fmt: skip
        stored = 0
        for size in sizes:
            part.check(f"before {size:,} records")
            rate = asyncio.run(fill(settings, stored, size - stored, part))
            stored = size
            pg.execute(url, "ANALYZE im_log_record")
            part.progress(f"{size:,} records written ({rate:,.0f}/s); verifying")
            seconds, checked = verify(data_dir, sa_url)
            part.progress(f"dpi log verify: {checked:,} records in {seconds:.1f} s")
            walk, cpu = walked(sa_url, size)
            part.progress(f"verification walk: {size / walk:,.0f} records/s")
            port = free_port()
            env = {"DPI_DATA_DIR": tmp, "DPI_LOG_LEVEL": "WARNING",
                   "DPI_INTEROP_LAYER_DATABASE_URL": sa_url,
                   "DPI_INTEROP_LAYER_DECLARED_SUBSCRIPTIONS": "false"}  # fmt: skip
            process = start_uvicorn("services.interop_layer.main:app", port, env, timeout=120)
            try:
                times = lookups(f"http://127.0.0.1:{port}", url)
            finally:
                stop(process)
            part.row(size, f"{rate:,.0f}", f"{seconds:.1f}", f"{size / walk:,.0f}",
                     f"{size / cpu:,.0f}", f"{median(times):.1f} ms",
                     f"{p95(times):.1f} ms")  # fmt: skip
            part.progress(f"{size:,} records: trace lookup median {median(times):.1f} ms")
    if part.rows:
        throughput = float(part.rows[-1][3].replace(",", ""))
        lookup = float(part.rows[-1][5].split()[0])
        part.notes.append(
            f"at the largest size: verify {throughput:,.0f} records/s (target >= 50,000: "
            f"{verdict(throughput >= 50_000)}), trace lookup median {lookup:.1f} ms (target "
            f"< 20 ms: {verdict(lookup < 20)}); verify records/s: the walk `dpi log verify` runs "
            "(`verify_database`, in ranges in one process per core from 200,000 records), per CPU "
            "second of the verifier's processes (PostgreSQL's not counted); the command's time "
            "includes its start; load average at the end "
            + ", ".join(f"{load:.1f}" for load in os.getloadavg())
        )
