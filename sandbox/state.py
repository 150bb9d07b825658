"""Where a running sandbox is recorded: `<data dir>/run/sandbox.json`."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sandbox import registry

MARKER = ".dpi-data-dir"


@dataclass
class RunningService:
    name: str
    pid: int
    port: int
    url: str
    log: str
    how: str = "spawn"  # "fork": forked from the preloader; "spawn": its own `python -m uvicorn`
    replica: int = 0  # 1…N among its service's replicas (all on `port`); 0: the only process
    own_url: str = ""  # a replica's own address, where it alone answers


@dataclass
class SandboxState:
    data_dir: str
    port_offset: int
    launcher_pid: int | None
    services: list[RunningService] = field(default_factory=list)

    def service(self, name: str) -> RunningService | None:
        return next((s for s in self.services if s.name == name), None)


def default_data_dir() -> Path:
    return Path(os.environ.get("DPI_DATA_DIR", ".dpi-data")).resolve()


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data dir and mark it as ours, so `dpi reset` knows what it may delete."""
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    (data_dir / "run").mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).touch()


def state_path(data_dir: Path) -> Path:
    return data_dir / "run" / "sandbox.json"


def save_state(state: SandboxState) -> None:
    path = state_path(Path(state.data_dir))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    tmp.replace(path)
    registry.register(Path(state.data_dir))


def load_state(data_dir: Path) -> SandboxState | None:
    path = state_path(data_dir)
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    services = [RunningService(**s) for s in raw.pop("services", [])]
    return SandboxState(**raw, services=services)


def clear_state(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path(data_dir).unlink()
    registry.unregister(data_dir)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        for line in status.read_text().splitlines():
            if line.startswith("State:"):
                return "Z" in line.split()[1]
    except OSError:
        return False
    return False


def live_services(state: SandboxState) -> list[RunningService]:
    return [s for s in state.services if pid_alive(s.pid)]


def in_use(data_dir: Path) -> bool:
    """True while any process the data directory's state file records is alive."""
    state = load_state(data_dir)
    if state is None:
        return False
    return bool(live_services(state)) or bool(state.launcher_pid and pid_alive(state.launcher_pid))


def running_sandboxes() -> list[Path]:
    """Data directories of the sandboxes running now (the registry checked against live pids)."""
    found = []
    for data_dir in registry.registered():
        if in_use(data_dir):
            found.append(data_dir)
        else:
            registry.unregister(data_dir)
    return found
