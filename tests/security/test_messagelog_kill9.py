"""No answered exchange without its record, even when the mediator is killed with SIGKILL.

A real mediator process forwards concurrent calls (and refuses some) for a provider process on
loopback; it is killed mid-load. Every exchange whose answer a client received, each named by the
unique `X-Road-Id` the client sent, must be in the log, with the status the client saw, and the
log must still verify against the pinned keys and the head anchor, after a restart too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bench.common import stop
from services.interop_layer.messagelog.trust import read_anchor, read_keys
from services.interop_layer.messagelog.verify import KnownHead, verify_database
from services.kernel.credentials import client_key
from tests.conftest import scratch_database
from tests.security.mediator_support import HEALTH, logged, start_mediator, start_provider

pytestmark = pytest.mark.e2e

CONNECTIONS = 16
LOAD_SECONDS = 3.0  # the load never runs longer than this
MAX_REQUESTS = 3000
KILL_AFTER = 300  # answers received before the kill (or at half the load time)


async def load_then_kill(base: str, mediator: subprocess.Popen[bytes]) -> dict[str, int]:
    """Concurrent calls (every fifth without a credential: refused) until the kill; returns
    the status of every answer received, by the X-Road-Id sent."""
    answered: dict[str, int] = {}
    killed = asyncio.Event()
    sent = 0
    deadline = time.monotonic() + LOAD_SECONDS

    async def worker(client: httpx.AsyncClient, n: int) -> None:
        nonlocal sent
        i = 0
        while not killed.is_set() and sent < MAX_REQUESTS and time.monotonic() < deadline:
            i += 1
            sent += 1
            x_road_id = f"kill9-{n}-{i}"
            headers = {"X-Road-Client": HEALTH, "X-Road-Id": x_road_id}
            if i % 5:
                headers["X-DPI-Client-Key"] = client_key(HEALTH)
            try:
                response = await client.get(f"{base}/item/{x_road_id}", headers=headers)
            except httpx.HTTPError:
                continue  # in flight at the kill: never answered
            answered[x_road_id] = response.status_code

    async def killer() -> None:
        half = time.monotonic() + LOAD_SECONDS / 2
        while len(answered) < KILL_AFTER and time.monotonic() < half:
            await asyncio.sleep(0.01)
        os.kill(mediator.pid, signal.SIGKILL)
        killed.set()

    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
        await asyncio.gather(killer(), *(worker(client, n) for n in range(CONNECTIONS)))
    return answered


def test_every_answered_exchange_survives_kill_9(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    provider = start_provider(processes)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with scratch_database("kill9", tmp_path / "interop_layer.db") as url:
        mediator, base = start_mediator(data_dir, url, provider, processes)
        answered = asyncio.run(load_then_kill(base, mediator))
        assert mediator.wait(timeout=10) == -signal.SIGKILL
        assert len(answered) >= 50, f"too little load before the kill: {len(answered)}"
        assert set(answered.values()) == {200, 500}, set(answered.values())

        found = logged(url)
        missing = sorted(set(answered) - set(found))
        assert not missing, f"{len(missing)} of {len(answered)} answered exchanges unlogged"
        assert all(found[x_road_id] == status for x_road_id, status in answered.items())

        # The mediator comes back on the same log, continues the chain, and it all verifies.
        restarted, base = start_mediator(data_dir, url, provider, processes)
        headers = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
        after = httpx.get(f"{base}/after", headers={**headers, "X-Road-Id": "after-restart"})
        assert after.status_code == 200
        stop(restarted)
        assert "after-restart" in logged(url)
        trust = data_dir / "interop_layer" / "trust"
        pinned = read_keys(trust / "keys.json")
        anchor = read_anchor(trust / "head.json", pinned)
        report = verify_database(
            url, pinned=pinned, known=[KnownHead(anchor.seq, anchor.record_hash, "head anchor")]
        )
        assert report.ok, report
        assert report.checked == len(logged(url)) and anchor.seq == report.head_seq
