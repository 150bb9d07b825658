"""Running the real `dpi` command against a private data dir and free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox import launcher, stopping
from sandbox.state import SandboxState, load_state
from services.kernel.topology import load_topology


def free_offset() -> int:
    return launcher.free_offset(load_topology())


def dpi(
    *args: str,
    data_dir: Path | None,
    env: dict[str, str] | None = None,
    timeout: float = 90,
    cwd: Path | None = None,
):
    """`dpi ARGS`; `data_dir=None` leaves `DPI_DATA_DIR` unset (the CLI then looks for one)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DPI_DATA_DIR", None)
    if data_dir is not None:
        full_env["DPI_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def foreground(
    data_dir: Path,
    timeout: float = 60,
    command: str = "up",
    *,
    sigint_ignored: bool = False,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[subprocess.Popen[str], SandboxState, str]]:
    """`dpi up` (or `dpi demo`) in the foreground, yielded once it says it is serving; whatever
    the test does, nothing it started outlives it.

    `sigint_ignored` starts it as a non-interactive shell starts a background job: with SIGINT
    ignored, which Python would otherwise inherit (and Ctrl-C would then do nothing)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", command, "--port-offset", str(free_offset())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {}), "DPI_DATA_DIR": str(data_dir)},
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        seen = ""
        while "Press Ctrl-C" not in seen and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
        state = load_state(data_dir)
        if "Press Ctrl-C" not in seen or state is None:
            raise AssertionError(f"dpi {command} did not become ready:\n{seen}")
        yield process, state, seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        stopping.stop_sandbox(data_dir, timeout=5)
