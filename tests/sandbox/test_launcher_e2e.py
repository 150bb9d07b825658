"""End to end: `dpi up --detach` starts real processes; `dpi down` leaves none behind."""

from __future__ import annotations

import json
import os
import signal
import socket

import httpx
import pytest

from sandbox.state import load_state, pid_alive
from services.kernel.topology import load_topology
from tests.sandbox.helpers import dpi, foreground, free_offset

pytestmark = pytest.mark.e2e


def test_up_status_down_over_real_http(tmp_path):
    offset = free_offset()
    data_dir = tmp_path / "data"
    up = dpi("up", "--detach", "--replicas", "1", "--port-offset", str(offset), data_dir=data_dir)
    state = load_state(data_dir)
    pids = [s.pid for s in state.services] if state else []  # the services and the console
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "ready" in up.stdout
        topology = load_topology()
        assert state is not None and [s.name for s in state.services] == [
            *(spec.name for spec in topology.start_order()),
            "console",
        ]
        console = httpx.get(f"http://127.0.0.1:{topology.control_port + offset}/readyz")
        assert console.json() == {"status": "ready", "service": "console"}
        assert f"Console: http://127.0.0.1:{topology.control_port + offset}" in up.stdout
        with httpx.Client(timeout=5) as client:
            for spec in load_topology().services:
                base = f"http://127.0.0.1:{spec.port + offset}"
                ready = client.get(f"{base}/readyz")
                assert ready.status_code == 200, spec.name
                assert ready.json()["service"] == spec.name
                schema = client.get(f"{base}/openapi.json")
                assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
        status = dpi("status", data_dir=data_dir)
        assert status.returncode == 0, status.stdout
        total = len(load_topology().services)
        assert f"{total}/{total} services ready" in status.stdout
        logs = dpi("logs", "consent", "-n", "5", data_dir=data_dir)
        assert logs.returncode == 0 and "GET /readyz 200" in logs.stdout
        second = dpi("up", "--detach", "--port-offset", str(offset), data_dir=data_dir)
        assert second.returncode == 1 and load_state(data_dir) == state  # issue 20's regression
        env = json.loads(dpi("env", "--json", data_dir=data_dir).stdout)
        assert env["running"] is True and env["port_offset"] == offset
    finally:
        down = dpi("down", data_dir=data_dir)
    assert down.returncode == 0 and "Stopped" in down.stdout
    assert pids and not [p for p in pids if pid_alive(p)]
    assert load_state(data_dir) is None
    assert dpi("status", data_dir=data_dir).returncode == 1


def test_port_conflict_names_the_service_and_port(tmp_path):
    offset = free_offset()
    spec = load_topology().service("consent")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", spec.port + offset))
        blocker.listen()
        result = dpi("up", "--detach", "--port-offset", str(offset), data_dir=tmp_path / "d")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"Port {spec.port + offset} for consent is already in use" in message
    assert "--port-offset" in message
    assert load_state(tmp_path / "d") is None


def test_a_service_that_fails_to_start_is_reported_with_its_log(tmp_path):
    offset = free_offset()
    data_dir = tmp_path / "d"
    result = dpi(
        "up",
        "--detach",
        "--port-offset",
        str(offset),
        data_dir=data_dir,
        env={"DPI_REGISTRIES_DATABASE_URL": "nosuchdriver://nowhere/db"},
    )
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "registries exited with code" in message
    assert "nosuchdriver" in result.stderr  # the last log lines say why
    assert load_state(data_dir) is None
    with httpx.Client(timeout=1) as client:
        for spec in load_topology().services:
            with pytest.raises(httpx.ConnectError):
                client.get(f"http://127.0.0.1:{spec.port + offset}/healthz")


def test_reset_refuses_a_foreign_directory_and_wipes_its_own(tmp_path):
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    refused = dpi("reset", data_dir=foreign)
    assert refused.returncode == 1 and (foreign / "thesis.txt").exists()

    own = tmp_path / "own"
    (own / "logs").mkdir(parents=True)
    (own / ".dpi-data-dir").touch()
    (own / "consent.db").write_text("")
    assert dpi("reset", data_dir=own).returncode == 0
    assert not own.exists()


@pytest.mark.parametrize("sigint_ignored", [False, True])
def test_foreground_up_stops_every_process_on_ctrl_c(tmp_path, sigint_ignored):
    with foreground(tmp_path / "d", sigint_ignored=sigint_ignored) as (process, state, _):
        pids = [s.pid for s in state.services]
        assert all(pid_alive(p) for p in pids)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert "Stopped." in rest
        assert not [p for p in pids if pid_alive(p)]


@pytest.mark.parametrize("mode", ["fork", "spawn"])
def test_a_crash_after_start_is_reported_and_everything_stops(tmp_path, mode):
    with foreground(tmp_path / "d", env={"DPI_LAUNCH_MODE": mode}) as (process, state, _):
        assert {s.how for s in state.services if s.name != "console"} == {mode}
        victim = state.service("registries")
        assert victim is not None
        os.kill(victim.pid, signal.SIGKILL)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 1
        assert "registries exited with code -9" in " ".join(rest.split())
        assert not [s.pid for s in state.services if pid_alive(s.pid)]


def test_demo_runs_every_scenario_then_keeps_serving(tmp_path):
    with foreground(tmp_path / "d", timeout=240, command="demo") as (process, state, seen):
        assert "Scenario runs" in seen and "FAILED" not in seen, seen
        assert "report.html" in seen
        assert all(pid_alive(s.pid) for s in state.services)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
        assert not [s.pid for s in state.services if pid_alive(s.pid)]
