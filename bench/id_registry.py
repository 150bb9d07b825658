"""Authentication throughput of the ID system (demographic + OTP mix) as a ratio of the same
service's `/healthz` throughput measured in the same run (target >= 50 %), and of encrypted,
signed demographic authentications (target >= 35 %; the cost of one RSA-2048 decryption and one
signature on this machine is reported as the floor of that path).

Run: `.venv/bin/python -m bench.id_registry [--access-log]` (uses `wrk` when installed, else an
aiohttp client). The service's logs stay at WARNING unless `--access-log` runs it at the
sandbox's default INFO, which adds the kernel's JSON access line to every request of both.
Loopback only; bounded in time; starts and stops its own uvicorn process on a free port, with a
temporary data directory. OTPs are requested through the IDA OTP endpoint before the timed run
(that rate is reported too) and read back from the admin outbox; each is used once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench import ida_sealed
from bench.common import cpu_seconds, free_port, start_uvicorn, stop
from services.kernel.time import iso_millis_z, utcnow

# One usable OTP per (person, partner): 6,000 people x 5 partners keeps the timed run a 50/50 mix
# up to ~7,500 authentications/s over 8 s (the run warns when the OTPs ran out).
POPULATION = 6000
OTP_PARTNERS = ("moh-hmis", "moe-emis", "msp-spmis", "crvs-registries", "dpa-consent")
DURATION = 8.0
WARMUP = 2.0
CONNECTIONS = 32
PER_THREAD = 40_000  # more than a thread sends in DURATION: OTP requests are never replayed
LK = "dpi-sandbox-misp-license-key"
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}
# now, and a window of an hour (prepared requests outlive the ID system's default 600 s)
REQUEST_TIME = iso_millis_z(utcnow())
SEALED_BODIES = 3000

LUA = """
local demo = %(demo)s
local otps = %(otps)s
local counter = 0
local function body(id, txn, request)
  return '{"id":"mosip.identity.auth","version":"1.0","requestTime":"%(time)s",'
    .. '"transactionID":"' .. txn .. '","individualId":"' .. id .. '",'
    .. '"individualIdType":"UIN","consentObtained":true,"request":' .. request .. '}'
end
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
-- Requests are built once per thread here, so the generator spends its CPU on sending them:
-- on a 2-core machine any per-request Lua work is taken from the service being measured.
function init(args)
  local headers = {["Content-Type"] = "application/json"}
  local demo_path = "/idauthentication/v1/auth/%(lk)s/moh-hmis/moh-hmis-sandbox-key"
  requests, position = {}, 0
  local next_otp, n = tid + 1, 0
  math.randomseed(1000 + tid)
  while #requests < %(per_thread)d do
    n = n + 1
    if n %% 2 == 0 and next_otp <= #otps then
      local o = otps[next_otp]
      next_otp = next_otp + %(threads)d
      local path = "/idauthentication/v1/auth/%(lk)s/" .. o[4] .. "/" .. o[4] .. "-sandbox-key"
      table.insert(requests, wrk.format("POST", path, headers,
        body(o[1], o[2], '{"otp":"' .. o[3] .. '"}')))
    else
      local d = demo[math.random(1, #demo)]
      local demographics = '{"demographics":{"name":[{"language":"eng","value":"' .. d[2]
        .. '"}],"dob":"' .. d[3] .. '"}}'
      table.insert(requests, wrk.format("POST", demo_path, headers,
        body(d[1], "DEMO" .. tid .. "-" .. n, demographics)))
    end
  end
end
request = function()
  position = position + 1
  if position > #requests then
    position = 1
  end
  return requests[position]
end
"""


def start_service(data_dir: Path, port: int, access_log: bool) -> subprocess.Popen[bytes]:
    env = {
        "DPI_DATA_DIR": str(data_dir),
        # INFO is the sandbox's default: one JSON access line per request (`--access-log`).
        "DPI_LOG_LEVEL": "INFO" if access_log else "WARNING",
        "DPI_ID_REGISTRY_SEED_POPULATION": str(POPULATION),
        "DPI_ID_REGISTRY_PUBLISH_EVENTS": "false",
        "DPI_ID_REGISTRY_OTP_TTL_SECONDS": "3600",
        "DPI_ID_REGISTRY_REQUEST_TIME_WINDOW_SECONDS": "3600",
        "DPI_ID_REGISTRY_DATABASE_URL": None,
    }
    # the service log in a file, as the launcher's logs/
    log = data_dir / "service.log"
    return start_uvicorn("services.id_registry.main:app", port, env, log=log, timeout=90)


def load_people(base: str) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as client:
        while True:
            page = client.get("/v1/identities", params={"offset": len(people), "limit": 500})
            page.raise_for_status()
            people += page.json()
            if len(page.json()) < 500:
                return people


async def request_otps(base: str, people: list[dict[str, Any]]) -> tuple[float, int]:
    """Send one OTP per (person, partner) through IDA; return OTP requests/s and how many."""
    jobs = [
        (p["UIN"], partner, f"OTP{i:07d}") for partner in OTP_PARTNERS for i, p in enumerate(people)
    ]
    queue = iter(jobs)
    sent = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        for uin, partner, txn in queue:
            body = {
                "id": "mosip.identity.otp",
                "version": "1.0",
                "requestTime": REQUEST_TIME,
                "transactionID": txn,
                "individualId": uin,
                "individualIdType": "UIN",
                "otpChannel": ["PHONE"],
            }
            url = f"{base}/idauthentication/v1/otp/{LK}/{partner}/{partner}-sandbox-key"
            async with session.post(url, json=body) as response:
                answer = await response.json()
                if answer.get("errors") is None:
                    sent += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
    return sent / (time.monotonic() - started), sent


def read_outbox(base: str) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as client:
        while True:
            page = client.get("/v1/mock/otp-outbox", params={"offset": len(rows), "limit": 1000})
            page.raise_for_status()
            rows += [
                (m["individualId"], m["transactionID"], m["otp"], m["partnerId"])
                for m in page.json()
            ]
            if len(page.json()) < 1000:
                return rows


def _audit_db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "id_registry.db", timeout=30)


def audit_mark(data_dir: Path) -> int:
    with contextlib.closing(_audit_db(data_dir)) as db:
        return int(db.execute("SELECT coalesce(max(id), 0) FROM auth_audit").fetchone()[0])


def audit_since(data_dir: Path, mark: int) -> dict[str, int]:
    """What the service recorded for each attempt of the timed run: the success check."""
    query = (
        "SELECT auth_types, status, count(*) FROM auth_audit WHERE id > ? AND request_type = 'auth'"
        " GROUP BY auth_types, status ORDER BY auth_types, status"
    )
    with contextlib.closing(_audit_db(data_dir)) as db:
        return {f"{types} {status}": n for types, status, n in db.execute(query, (mark,))}


def lua_table(rows: Sequence[tuple[str, ...]]) -> str:
    return "{" + ",".join("{" + ",".join(json.dumps(v) for v in row) + "}" for row in rows) + "}"


def wrk(url: str, seconds: float, script: Path | None = None) -> tuple[float, int, int, str]:
    """Requests/s, total, non-2xx, and the script's own report line."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    report = re.search(r"^AUTH .*$", output, re.MULTILINE)
    return rate, total, int(errors.group(1)) if errors else 0, report.group(0) if report else ""


async def _aiohttp_auth(
    base: str,
    seconds: float,
    demo: Sequence[tuple[str, ...]],
    otps: Sequence[tuple[str, ...]] | None,
) -> tuple[float, int, int, str]:
    counts = {"ok": 0, "failed": 0, "otp": 0}
    stop_at = time.monotonic() + seconds
    rng = random.Random(7)
    otp_queue = iter(otps or [])

    def next_body(n: int) -> tuple[str, dict[str, Any]]:
        otp = next(otp_queue, None) if n % 2 == 0 else None
        if otp is not None:
            counts["otp"] += 1
            uin, txn, value, partner = otp
            request: dict[str, Any] = {"otp": value}
        else:
            uin, name, dob = rng.choice(demo)
            txn, partner = f"DEMO{n}", "moh-hmis"
            request = {"demographics": {"name": [{"language": "eng", "value": name}], "dob": dob}}
        body = {
            "id": "mosip.identity.auth",
            "version": "1.0",
            "requestTime": REQUEST_TIME,
            "transactionID": txn,
            "individualId": uin,
            "individualIdType": "UIN",
            "consentObtained": True,
            "request": request,
        }
        return f"{base}/idauthentication/v1/auth/{LK}/{partner}/{partner}-sandbox-key", body

    async def worker(session: aiohttp.ClientSession) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            if otps is None:
                call = session.get(base + "/healthz")
            else:
                url, body = next_body(n)
                call = session.post(url, json=body)
            async with call as response:
                text = await response.text()
                good = response.status == 200 and (otps is None or '"authStatus":true' in text)
                counts["ok" if good else "failed"] += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as session:
        await asyncio.gather(*(worker(session) for _ in range(CONNECTIONS)))
    total = counts["ok"] + counts["failed"]
    report = f"AUTH ok={counts['ok']} failed={counts['failed']} otp={counts['otp']}"
    return total / (time.monotonic() - started), total, counts["failed"], report


def main(access_log: bool = False) -> None:
    use_wrk = shutil.which("wrk") is not None
    with tempfile.TemporaryDirectory(prefix="dpi-bench-id-registry-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        started = time.monotonic()
        process = start_service(data_dir, port, access_log)
        startup = time.monotonic() - started
        base = f"http://127.0.0.1:{port}"
        try:
            people = load_people(base)
            demo = [
                (p["UIN"], p["identity"]["fullName"][0]["value"], p["identity"]["dateOfBirth"])
                for p in people
            ]
            otp_rate, otp_count = asyncio.run(request_otps(base, people))
            otps = read_outbox(base)
            script = data_dir / "auth.lua"
            script.write_text(
                LUA
                % {
                    "demo": lua_table(demo),
                    "otps": lua_table(otps),
                    "threads": 2,
                    "per_thread": PER_THREAD,
                    "lk": LK,
                    "time": REQUEST_TIME,
                }
            )
            warm = data_dir / "warm.lua"
            warm.write_text(
                script.read_text().replace("local otps = " + lua_table(otps), "local otps = {}")
            )
            # The same requests with a wrong license key: refused before any database work, so
            # this is the ceiling of an IDA call (body, envelope validation, error envelope).
            rejected = data_dir / "rejected.lua"
            rejected.write_text(warm.read_text().replace(LK, "not-a-license-key"))

            cpu: dict[str, float] = {}

            def measure(
                auth: bool, seconds: float, lua: Path, name: str = ""
            ) -> tuple[float, int, int, str]:
                spent = cpu_seconds(process.pid)
                if use_wrk:
                    result = wrk(
                        base + ("/idauthentication" if auth else "/healthz"),
                        seconds,
                        lua if auth else None,
                    )
                else:
                    result = asyncio.run(_aiohttp_auth(base, seconds, demo, otps if auth else None))
                if name:
                    # The service's own CPU per answered request: steadier than throughput when
                    # other work shares the machine (it does not count time spent waiting).
                    cpu[name] = (cpu_seconds(process.pid) - spent) / max(result[1], 1)
                return result

            measure(False, WARMUP, warm)
            measure(True, WARMUP, warm)
            floor_a, _, _, _ = measure(False, DURATION, warm, "healthz-before")
            before = audit_mark(data_dir)
            rate, total, non_2xx, _ = measure(True, DURATION, script, "auth")
            outcomes = audit_since(data_dir, before)
            floor_b, _, _, _ = measure(False, DURATION, warm, "healthz-after")
            ceiling = measure(True, DURATION / 2, rejected)[0] if use_wrk else None
            bodies = ida_sealed.sealed_bodies(base, demo, SEALED_BODIES, REQUEST_TIME)
            ida_sealed.send(base, WARMUP, bodies, CONNECTIONS)
            floor_c = asyncio.run(_aiohttp_auth(base, DURATION, demo, None))[0]
            spent = cpu_seconds(process.pid)
            sealed_rate, sealed_total, sealed_failed = ida_sealed.send(
                base, DURATION, bodies, CONNECTIONS
            )
            cpu["sealed"] = (cpu_seconds(process.pid) - spent) / max(sealed_total, 1)
        finally:
            stop(process)
    floor = (floor_a + floor_b) / 2
    print(f"population: {len(people)} seeded identities (service start-up {startup:.1f} s)")
    tool = "wrk" if use_wrk else "aiohttp"
    print(f"load: {tool}, {CONNECTIONS} connections, {DURATION:.0f} s per measurement")
    logs = "INFO, a JSON access line per request" if access_log else "WARNING, no access line"
    print(f"service logs: {logs}")
    print(f"OTP requests before the run: {otp_count} at {otp_rate:.0f} req/s", end=" ")
    print(f"({otp_rate / floor:.0%} of floor)")
    print(f"/healthz floor: {floor:.0f} req/s (before {floor_a:.0f}, after {floor_b:.0f})")
    print(f"IDA auth (demo + OTP mix): {rate:.0f} req/s, {non_2xx} non-2xx of {total}")
    print("audited outcomes of the timed run (auth types, status: count):", outcomes)
    used = sum(n for key, n in outcomes.items() if key.startswith("otp"))
    if used >= len(otps):
        print(f"WARNING: all {len(otps)} OTPs were used: the mix was not 50/50 to the end")
    if total > 2 * PER_THREAD:
        print("WARNING: wrk ran out of prepared requests and replayed spent OTPs")
    if ceiling is not None:
        print(f"envelope-only ceiling (401 before any DB work): {ceiling:.0f} req/s", end=" ")
        print(f"({ceiling / floor:.0%} of floor)")
    healthz_cpu = (cpu["healthz-before"] + cpu["healthz-after"]) / 2
    print(f"service CPU per request: /healthz {healthz_cpu * 1e6:.0f} us", end=" ")
    print(
        f"(before {cpu['healthz-before'] * 1e6:.0f}, after {cpu['healthz-after'] * 1e6:.0f}),",
        end=" ",
    )
    print(f"auth {cpu['auth'] * 1e6:.0f} us: ratio {healthz_cpu / cpu['auth']:.0%}")
    print(f"auth throughput / healthz floor: {rate / floor:.0%}  (target >= 50%)")
    decryption, signature = ida_sealed.rsa_costs()
    print(
        f"encrypted, signed auth (aiohttp, {len(bodies)} prepared bodies): {sealed_rate:.0f} req/s,"
        f" {sealed_failed} failed of {sealed_total}; /healthz with the same client {floor_c:.0f}"
        f" req/s; service CPU {cpu['sealed'] * 1e6:.0f} us per request"
    )
    print(
        f"RSA-2048 on this machine: OAEP decryption {decryption * 1e6:.0f} us, signature"
        f" {signature * 1e6:.0f} us (the server does one of each per encrypted request:"
        f" at most {1 / (decryption + signature):.0f} req/s per core)"
    )
    print(f"encrypted auth throughput / healthz: {sealed_rate / floor_c:.0%}  (target >= 35%)")


if __name__ == "__main__":
    main(access_log="--access-log" in sys.argv[1:])
