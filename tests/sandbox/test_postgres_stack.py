"""The embedded launcher with every service on its own PostgreSQL database (the PostgreSQL run)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.state import load_state, pid_alive
from services.kernel.topology import load_topology
from tests.conftest import USE_POSTGRES
from tests.sandbox.helpers import dpi, free_offset

pytestmark = pytest.mark.skipif(
    not USE_POSTGRES, reason="runs in the PostgreSQL pass (DPI_TEST_DB=postgres, `make test`)"
)


def test_every_service_runs_on_its_own_postgres_database(tmp_path, database_url):
    topology = load_topology()
    env = {f"DPI_{s.env_name}_DATABASE_URL": database_url(s.name) for s in topology.services}
    offset = free_offset()
    data_dir = tmp_path / "data"
    up = dpi(
        "up",
        "--detach",
        "--replicas",
        "1",
        "--port-offset",
        str(offset),
        data_dir=data_dir,
        env=env,
    )
    state = load_state(data_dir)
    pids = [s.pid for s in state.services] if state else []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        with httpx.Client(timeout=5) as client:
            for spec in topology.services:
                ready = client.get(f"http://127.0.0.1:{spec.port + offset}/readyz")
                assert ready.status_code == 200, (spec.name, ready.text)
        assert not list(data_dir.glob("*.db")), "no SQLite file when every service has a URL"
    finally:
        dpi("down", data_dir=data_dir)
    assert pids and not [p for p in pids if pid_alive(p)]
