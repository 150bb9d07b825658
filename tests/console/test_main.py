"""`python -m sandbox.console`: the address it binds is loopback unless `--host` or
`DPI_CONSOLE_HOST` says otherwise (a container's command binds every interface)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from sandbox.generate import COMPOSE

OTHER_LOOPBACK = "127.0.0.2"  # stands for 0.0.0.0: an address that is not the default


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((OTHER_LOOPBACK, 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def serving(argv: list[str], env: dict[str, str], port: int) -> None:
    """Start the console, wait for it on OTHER_LOOPBACK, and check 127.0.0.1 is not bound."""
    process = subprocess.Popen(
        [sys.executable, *argv],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not answers(f"http://{OTHER_LOOPBACK}:{port}/healthz"):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the console did not answer"
            time.sleep(0.1)
        assert not answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.e2e
def test_the_compose_command_binds_the_host_it_names(tmp_path: Path):
    command = yaml.safe_load(COMPOSE.read_text())["services"]["console"]["command"]
    assert command[:3] == ["python", "-m", "sandbox.console"]
    port = free_port()
    argv = [OTHER_LOOPBACK if a == "0.0.0.0" else a for a in command[1:]]
    argv[argv.index("--port") + 1] = str(port)
    serving(argv, {"DPI_DATA_DIR": str(tmp_path)}, port)


@pytest.mark.e2e
def test_without_host_it_binds_what_dpi_console_host_says(tmp_path: Path):
    port = free_port()
    env = {"DPI_DATA_DIR": str(tmp_path), "DPI_CONSOLE_HOST": OTHER_LOOPBACK}
    serving(["-m", "sandbox.console", "--port", str(port)], env, port)
