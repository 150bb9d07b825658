"""End to end: services forked from the preloader are separate processes that share its pages,
draw their own random ids, die and start again alone; without a preloader they are spawned."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.launcher import Launcher
from sandbox.processes import PreloaderClient, launch_mode
from sandbox.state import load_state, pid_alive
from services.kernel.topology import load_topology
from tests.sandbox.helpers import dpi, free_offset

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the preloader forks on Linux"),
]


CONSENT_AUTH = {"Authorization": "ApiKey dpi-consent-org-key"}


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _maps_library(pid: int, fragment: str) -> bool:
    return fragment in Path(f"/proc/{pid}/maps").read_text()


def test_forked_services_are_separate_processes_with_their_own_ids(tmp_path):
    launcher = Launcher(load_topology(), tmp_path / "d", free_offset(), mode="fork")
    launcher.start()
    try:
        launcher.wait_ready(timeout=90)
        children = launcher.children
        assert {c.how for c in children} == {"fork"}
        pids = [c.process.pid for c in children]
        assert len(set(pids)) == len(load_topology().services)
        assert launcher.preloader is None  # let go once ready: the launcher adopted them
        for child, pid in zip(children, pids, strict=True):
            assert _parent(pid) == os.getpid()
            assert os.getpgid(pid) == pid  # its own group: `dpi down` signals it alone
            assert _maps_library(pid, "_pydantic_core")
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            assert comm == f"dpi-{child.spec.name}"[:15]
        state = load_state(launcher.data_dir)
        assert state is not None
        assert [(s.name, s.pid, s.how) for s in state.services] == [
            (c.spec.name, c.process.pid, "fork") for c in children
        ]
        traces = []
        with httpx.Client(timeout=10) as client:
            for child in children:
                answer = client.get(f"{child.url}/healthz")
                assert answer.status_code == 200 and answer.json()["service"] == child.spec.name
                traces.append(answer.headers["traceparent"].split("-")[1])
                log = child.log.read_text()
                assert f'"service": "{child.spec.name}"' in log
                assert "Application startup complete" in log
        random_parts = {trace[12:] for trace in traces}  # after the 48-bit millisecond stamp
        assert len(random_parts) == len(children)
    finally:
        launcher.stop()
    assert not [p for p in pids if pid_alive(p)]


def test_a_forked_process_collects_garbage_and_leaves_the_preloaded_heap_alone(tmp_path):
    """The preloader imports with its collector off and freezes what it imported; the services it
    forks must collect their own garbage all the same. Nor does it load the `dpi` command's
    libraries (httpx's command-line client would)."""
    launcher = Launcher(load_topology(), tmp_path / "d", free_offset(), mode="fork")
    launcher.data_dir.joinpath("logs").mkdir(parents=True)
    env = {**launcher.child_env(), "PYTHONPATH": os.pathsep.join(sys.path)}
    launcher.preloader = PreloaderClient(env, launcher.data_dir / "logs" / "preload.log")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process, how, log = launcher.start_process("probe", "tests.sandbox.probe_app:app", port, env)
    try:
        assert how == "fork"
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=2) as client:
            while True:
                try:
                    answer = client.get(f"http://127.0.0.1:{port}/process")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.05)
        found = answer.json()
        assert found["gc_enabled"] is True
        assert found["frozen"] > 100_000  # the libraries, imported once before the fork
        assert found["cli_only_loaded"] == []
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        launcher.release()


def test_a_service_the_preloader_cannot_fork_is_spawned(tmp_path):
    topology = load_topology()
    launcher = Launcher(topology, tmp_path / "d", free_offset(), mode="fork")
    launcher.data_dir.joinpath("logs").mkdir(parents=True)
    env = launcher.child_env()
    launcher.preloader = PreloaderClient(env, launcher.data_dir / "logs" / "preload.log")
    launcher.preloader.process.kill()
    spec = topology.service("registries")
    child = launcher.start_one(spec, spec.port + launcher.port_offset, env)
    launcher.children.append(child)
    try:
        assert child.how == "spawn"
        launcher.wait_ready(timeout=60)
        with httpx.Client(timeout=5) as client:
            assert client.get(f"{child.url}/readyz").json()["service"] == "registries"
    finally:
        launcher.stop()
    assert not pid_alive(child.process.pid)


def test_launch_mode_from_the_switch_or_the_environment(monkeypatch):
    monkeypatch.delenv("DPI_LAUNCH_MODE", raising=False)
    assert launch_mode() == "fork"
    assert launch_mode("spawn") == "spawn"
    monkeypatch.setenv("DPI_LAUNCH_MODE", "spawn")
    assert launch_mode() == "spawn"
    assert launch_mode("fork") == "fork"
    monkeypatch.setenv("DPI_LAUNCH_MODE", "vfork")
    with pytest.raises(ValueError, match="fork or spawn"):
        launch_mode()


def test_a_killed_forked_service_is_reported_and_the_sandbox_starts_again(tmp_path):
    offset = free_offset()
    data_dir = tmp_path / "d"
    up = dpi("up", "--detach", "--port-offset", str(offset), data_dir=data_dir)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        state = load_state(data_dir)
        assert state is not None
        assert {s.how for s in state.services if s.name != "console"} == {"fork"}
        consent = state.service("consent")
        assert consent is not None
        with httpx.Client(timeout=5) as client:
            made = client.post(
                f"{consent.url}/config/individual/",
                json={"individual": {"externalId": "preload-e2e-1", "externalIdType": "NIN"}},
                headers=CONSENT_AUTH,
            )
        assert made.status_code == 200, made.text
        individual_id = made.json()["individual"]["id"]
        os.kill(consent.pid, signal.SIGKILL)
        status = dpi("status", data_dir=data_dir)
        assert status.returncode == 1
        services = [s for s in state.services if s.name != "console"]
        assert f"{len(services) - 1}/{len(services)} services ready" in status.stdout
        assert "Stopped" in dpi("down", data_dir=data_dir).stdout
        again = dpi("up", "--detach", "--port-offset", str(offset), data_dir=data_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        restarted = load_state(data_dir)
        assert restarted is not None
        consent_again = restarted.service("consent")
        assert consent_again is not None and consent_again.pid != consent.pid
        with httpx.Client(timeout=5) as client:
            found = client.get(
                f"{consent_again.url}/config/individual/{individual_id}/",
                headers=CONSENT_AUTH,
            )
        assert found.status_code == 200, found.text
        assert found.json()["individual"]["externalId"] == "preload-e2e-1"
    finally:
        dpi("down", data_dir=data_dir)
