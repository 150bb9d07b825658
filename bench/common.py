"""What every benchmark does alike: a free loopback port, a service under uvicorn started with
the launcher's flags and waited for, its CPU time from /proc, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_uvicorn(
    target: str,
    port: int,
    env: Mapping[str, str | None],
    *,
    factory: bool = False,
    probe: str | None = "/readyz",
    log: Path | None = None,
    timeout: float = 60.0,
    http: str | None = None,
    root: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Start `target` on loopback as the launcher does (no uvicorn access log) and, unless
    `probe` is None, wait until it answers 200 there. `env` adds to the environment (None
    removes a variable); output goes to `log` if given (its tail is shown if start-up fails).
    `root` is the checkout it runs from (another one to compare against, for instance)."""
    environment = {**os.environ}
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    command = [sys.executable, "-m", "uvicorn", target, *(["--factory"] if factory else [])]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", *(["--http", http] if http else [])]
    if log is None:
        process = subprocess.Popen(
            command, env=environment, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    else:
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, env=environment, cwd=root, stdout=output, stderr=subprocess.STDOUT
            )
    if probe is not None:
        _wait_ready(process, f"http://127.0.0.1:{port}{probe}", target, log, timeout)
    return process


def _wait_ready(
    process: subprocess.Popen[bytes], url: str, target: str, log: Path | None, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log else "(output discarded)"
                raise RuntimeError(f"{target} exited during start-up:\n{tail}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{target} did not become ready within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, and kill if it does not end within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
