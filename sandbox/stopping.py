"""Stopping a sandbox's processes, and reading the end of their logs."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from sandbox.display import format_log_line
from sandbox.state import clear_state, live_services, load_state, pid_alive


def tail(path: Path, lines: int = 20) -> list[str]:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return data.splitlines()[-lines:]


def last_lines(path: Path, lines: int = 15) -> str:
    """The end of a service's log, JSON lines made readable (tracebacks unfolded)."""
    return "\n".join(format_log_line(line) for line in tail(path, lines))


def stop_pids(pids: list[int], timeout: float = 10.0) -> list[int]:
    """SIGTERM each process group, then SIGKILL what is left after `timeout`; returns killed."""
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    killed = [p for p in pids if pid_alive(p)]
    for pid in killed:
        _signal_group(pid, signal.SIGKILL)
    return killed


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_sandbox(data_dir: Path, timeout: float = 10.0) -> list[str]:
    """Stop what the state file records (a detached sandbox or another terminal's `dpi up`)."""
    state = load_state(data_dir)
    if state is None:
        return []
    if state.launcher_pid and state.launcher_pid != os.getpid() and pid_alive(state.launcher_pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.launcher_pid, signal.SIGTERM)
    alive = live_services(state)
    stop_pids([s.pid for s in alive], timeout)
    clear_state(data_dir)
    return [s.name for s in alive]
