"""`dpi up --replicas 2` on PostgreSQL (empty databases): every service as two processes sharing
its port, every scenario against them, each mediator replica's message-log chain verified, each
replica's own log, one replica killed with SIGKILL while the other keeps serving, then `dpi down`
stops them all."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sandbox.scenarios.parser import BODIES_ENV
from sandbox.state import load_state, pid_alive
from services.kernel.topology import load_topology
from tests.conftest import SHARED_POSTGRES
from tests.sandbox.helpers import dpi, free_offset

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.replicas,
    SHARED_POSTGRES,
]
REPLICAS = 2


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_two_replicas_of_every_service_run_every_scenario(tmp_path: Path, database_url) -> None:
    topology = load_topology()
    env = {f"DPI_{s.env_name}_DATABASE_URL": database_url(s.name) for s in topology.services}
    env.update({BODIES_ENV: "full", "COLUMNS": "200"})
    data_dir = tmp_path / "data"
    offset = free_offset()
    where = ("--data-dir", str(data_dir), "--port-offset", str(offset))
    up = dpi("up", "--detach", "--replicas", str(REPLICAS), *where, "--timeout", "120",
             data_dir=data_dir, env=env, timeout=180)  # fmt: skip
    state = load_state(data_dir)
    pids = [s.pid for s in state.services] if state else []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert state is not None
        started = Counter(s.name for s in state.services)
        assert started == {**{s.name: REPLICAS for s in topology.services}, "console": 1}
        assert all(s.port == topology.service(s.name).port + offset for s in state.services
                   if s.name != "console")  # fmt: skip
        status = dpi("status", *where, data_dir=data_dir, env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert one_line(status.stdout).count(f"{REPLICAS}/{REPLICAS} replicas ready") == len(
            topology.services
        )

        run = dpi("run", "--all", *where, data_dir=data_dir, env=env, timeout=300)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-6000:]

        verify = dpi("log", "verify", *where, data_dir=data_dir, env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        verified = one_line(verify.stdout)
        assert f"in {REPLICAS} chain(s)" in verified
        for replica in range(1, REPLICAS + 1):
            assert f"r{replica} (head " in verified  # each mediator replica logged exchanges

        logs = data_dir / "logs"  # one log per replica, each named
        for spec in topology.services:
            assert not (logs / f"{spec.name}.log").exists()
            for replica in range(1, REPLICAS + 1):
                assert (logs / f"{spec.name}.r{replica}.log").stat().st_size > 0
        shown = dpi("logs", "interop_layer", "-n", "400", *where, data_dir=data_dir, env=env)
        assert shown.returncode == 0, shown.stderr
        assert {row.split()[0] for row in shown.stdout.splitlines()} == {"[r1]", "[r2]"}

        mediator = [s for s in state.services if s.name == "interop_layer"]
        os.kill(mediator[0].pid, signal.SIGKILL)
        with httpx.Client(timeout=5) as client:  # fresh connections: both replicas' turn
            for _ in range(10):
                answer = client.get(f"{mediator[0].url}/readyz", headers={"Connection": "close"})
                assert answer.status_code == 200
        after = dpi("status", *where, data_dir=data_dir, env=env)
        assert f"1/{REPLICAS} replicas ready" in one_line(after.stdout)
    finally:
        down = dpi("down", *where, data_dir=data_dir, env=env)
    assert down.returncode == 0, down.stdout + down.stderr
    # the mediator's killed replica was no longer running: one of two left to stop
    stopped = f"Stopped: id_registry ({REPLICAS} replicas), interop_layer, consent ({REPLICAS}"
    assert stopped in one_line(down.stdout)
    assert pids and not [p for p in pids if pid_alive(p)]
    assert load_state(data_dir) is None
