"""A foreground `dpi up --replicas N` keeps running while each service has a replica left: one
that exits is reported; the last one of a service ending stops the watch with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.children import Child
from sandbox.launcher import Launcher, LaunchError
from services.kernel.topology import load_topology


class Exits:
    """A process that answers `poll()` with None `alive_for` times, then with `code`."""

    def __init__(self, pid: int, alive_for: int, code: int = -9) -> None:
        self.pid, self.alive_for, self.code = pid, alive_for, code

    def poll(self) -> int | None:
        if self.alive_for > 0:
            self.alive_for -= 1
            return None
        return self.code

    def wait(self, timeout: float | None = None) -> int:
        return self.code


def test_a_replica_exiting_is_reported_and_the_last_one_stops_the_watch(tmp_path: Path, capsys):
    topology = load_topology()
    spec = topology.service("interop_layer")
    launcher = Launcher(topology, tmp_path, replicas=2)
    log = tmp_path / "interop_layer.log"
    first = Child(spec, spec.port, Exits(101, alive_for=0), log, "spawn", 1, 40001)
    second = Child(spec, spec.port, Exits(102, alive_for=5), log, "spawn", 2, 40002)
    launcher.children = [first, second]
    with pytest.raises(LaunchError) as raised:
        launcher.watch(interval=0)
    assert "interop_layer replica 2 exited with code -9" in str(raised.value)
    err = " ".join(capsys.readouterr().err.split())
    assert "interop_layer replica 1 exited with code -9; 1 of 2 replicas still serve" in err
    assert launcher.children == [second]


def test_a_single_process_service_exiting_stops_the_watch_at_once(tmp_path: Path) -> None:
    topology = load_topology()
    spec = topology.service("consent")
    launcher = Launcher(topology, tmp_path)
    launcher.children = [Child(spec, spec.port, Exits(103, alive_for=0, code=1), tmp_path / "c")]
    with pytest.raises(LaunchError, match="consent exited with code 1"):
        launcher.watch(interval=0)
