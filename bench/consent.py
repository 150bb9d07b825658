"""Decision throughput of the consent service with 100k stored consent records, as a ratio of
the same service's `/healthz` throughput measured in the same run (target >= 60 %).

Run: `.venv/bin/python -m bench.consent` (uses `wrk` when installed, else an aiohttp client;
about a minute). The records are bulk-loaded straight into the service's tables (every tenth
person has withdrawn, so answers mix permit and deny), then one uvicorn process serves them on a
free loopback port. `/healthz` and `POST /v1/decisions` (random subjects) alternate in short
rounds so that load from other processes hits both alike; the server's CPU time per request is
reported too, as the figure least disturbed by a busy machine.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select
from sqlmodel import create_engine

from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from services.consent.base import Base
from services.consent.decisions.models import Decision
from services.consent.individuals.models import Individual
from services.consent.records.models import ConsentRecord
from services.consent.seed import SCHOOL_ENROLMENT_ID
from services.kernel.credentials import mediator_key

RECORDS = 100_000
WITHDRAWN_EVERY = 10  # every 10th person has withdrawn: decisions mix permit and deny
ROUNDS = 4
SLICE = 3.0  # seconds per measurement; healthz and decisions alternate to share any noise
WARMUP = 2.0
CONNECTIONS = 32
CHUNK = 10_000
EDUCATION, HEALTH = "DPI/GOV/MOE/emis", "DPI/GOV/MOH/hmis"

LUA = """
math.randomseed(%(seed)d)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-DPI-Mediator-Key"] = "%(key)s"
request = function()
  local body = string.format(
    '{"subject":"bench-%%06d","dataConsumer":"%(consumer)s","dataProvider":"%(provider)s",'
    .. '"purpose":"school-enrolment","dataCategories":["immunisation-status"]}',
    math.random(0, %(last)d))
  return wrk.format(nil, nil, nil, body)
end
"""


def bulk_load(database_url: str, count: int) -> float:
    """Write `count` individuals and consent records straight into the service's tables."""
    started = time.perf_counter()
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    individuals = Individual.__table__  # type: ignore[attr-defined]
    records = ConsentRecord.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for start in range(0, count, CHUNK):
            people, consents = [], []
            for i in range(start, min(start + CHUNK, count)):
                person_id = str(uuid.uuid4())
                subject = f"bench-{i:06d}"
                withdrawn = i % WITHDRAWN_EVERY == 0
                people.append(
                    {
                        "id": person_id,
                        "external_id": subject,
                        "external_id_type": "psut:dpa-consent",
                        "identity_provider_id": "DPI/GOV/NIA/id-registry",
                        "created_at": now,
                    }
                )
                consents.append(
                    {
                        "id": str(uuid.uuid4()),
                        "data_agreement_id": SCHOOL_ENROLMENT_ID,
                        "data_agreement_revision_id": str(uuid.uuid4()),
                        "data_agreement_revision_hash": "0" * 40,
                        "individual_id": person_id,
                        "subject": subject,
                        "opt_in": not withdrawn,
                        "state": "unsigned",
                        "signature_id": None,
                        "status": "REVOKED" if withdrawn else "ACTIVE",
                        "consent_start": now - timedelta(days=1),
                        "consent_expiry": now + timedelta(days=365),
                        "consent_mode": "QUERY",
                        "fetch_type": "PERIODIC",
                        "frequency": {"unit": "MONTH", "value": 1},
                        "data_life": {"unit": "DAY", "value": 0},
                        "data_range": None,
                        "data_consumer": EDUCATION,
                        "data_provider": HEALTH,
                        "purpose_code": "school-enrolment",
                        "purpose_text": "Immunisation status for school enrolment",
                        "data_categories": ["immunisation-status"],
                        "artefact_signature": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            conn.execute(insert(individuals), people)
            conn.execute(insert(records), consents)
    engine.dispose()
    return time.perf_counter() - started


def count_rows(database_url: str, model: Any) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()
    engine.dispose()
    return int(value)


def wrk(url: str, seconds: float, script: Path | None = None) -> tuple[float, int, int]:
    """Requests/s, total requests and non-2xx answers, as wrk reports them."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, total, int(errors.group(1)) if errors else 0


async def _aiohttp_load(url: str, seconds: float, decisions: bool) -> tuple[float, int, int]:
    headers = {"X-DPI-Mediator-Key": mediator_key()}
    counts = {"ok": 0, "bad": 0}
    stop_at = time.monotonic() + seconds
    rng = random.Random(42)

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < stop_at:
            if decisions:
                body = {
                    "subject": f"bench-{rng.randrange(RECORDS):06d}",
                    "dataConsumer": EDUCATION,
                    "dataProvider": HEALTH,
                    "purpose": "school-enrolment",
                    "dataCategories": ["immunisation-status"],
                }
                call = session.post(url, json=body, headers=headers)
            else:
                call = session.get(url)
            async with call as response:
                await response.read()
                counts["ok" if response.status == 200 else "bad"] += 1

    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
    total = counts["ok"] + counts["bad"]
    return total / (time.monotonic() - started), total, counts["bad"]


def measure(base: str, path: str, seconds: float, script: Path | None) -> tuple[float, int, int]:
    if shutil.which("wrk"):
        return wrk(base + path, seconds, script)
    return asyncio.run(_aiohttp_load(base + path, seconds, decisions=script is not None))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dpi-bench-consent-") as tmp:
        data_dir = Path(tmp)
        database_url = f"sqlite:///{data_dir / 'consent.db'}"
        load_seconds = bulk_load(database_url, RECORDS)
        script = data_dir / "decisions.lua"
        script.write_text(
            LUA
            % {
                "seed": 42,
                "key": mediator_key(),
                "consumer": EDUCATION,
                "provider": HEALTH,
                "last": RECORDS - 1,
            }
        )
        port = free_port()
        process = start_uvicorn(
            "services.consent.main:app",
            port,
            {"DPI_DATA_DIR": str(data_dir), "DPI_LOG_LEVEL": "WARNING"},
        )
        base = f"http://127.0.0.1:{port}"
        totals = {"healthz": [0, 0.0, 0.0], "decisions": [0, 0.0, 0.0]}  # requests, s, cpu s
        errors = 0
        try:
            measure(base, "/healthz", WARMUP, None)
            measure(base, "/v1/decisions", WARMUP, script)
            decisions_before = count_rows(database_url, Decision)
            for _ in range(ROUNDS):
                for name, path, lua in (
                    ("healthz", "/healthz", None),
                    ("decisions", "/v1/decisions", script),
                ):
                    cpu_before = cpu_seconds(process.pid)
                    _, total, failed = measure(base, path, SLICE, lua)
                    totals[name][0] += total
                    totals[name][1] += SLICE
                    totals[name][2] += cpu_seconds(process.pid) - cpu_before
                    if name == "decisions":
                        errors += failed
            stored = count_rows(database_url, Decision) - decisions_before
        finally:
            stop(process)
    floor = totals["healthz"][0] / totals["healthz"][1]
    rate = totals["decisions"][0] / totals["decisions"][1]
    cpu_floor = totals["healthz"][2] / totals["healthz"][0] * 1e6
    cpu_decision = totals["decisions"][2] / totals["decisions"][0] * 1e6
    tool = "wrk" if shutil.which("wrk") else "aiohttp"
    print(f"consent records stored: {RECORDS} (bulk-loaded in {load_seconds:.1f} s)")
    print(
        f"load: {tool}, {CONNECTIONS} connections, {ROUNDS} alternating rounds of "
        f"{SLICE:.0f} s per endpoint"
    )
    print(f"GET /healthz floor: {floor:.0f} req/s, {cpu_floor:.0f} us server CPU per request")
    print(
        f"POST /v1/decisions: {rate:.0f} req/s, {cpu_decision:.0f} us server CPU per request, "
        f"{errors} non-2xx of {totals['decisions'][0]}"
    )
    answered = totals["decisions"][0] - errors
    print(
        f"decisions stored during the run: {stored} >= {answered} answered: "
        f"{'yes' if stored >= answered else 'NO'}"
    )
    print(f"decision throughput / healthz floor: {rate / floor:.0%}  (target >= 60%)")
    print(f"healthz CPU per request / decision CPU per request: {cpu_floor / cpu_decision:.0%}")


if __name__ == "__main__":
    main()
