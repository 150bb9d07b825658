"""Running the real `dpi` command against a private data dir and free ports."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from sandbox.launcher import port_in_use
from services.kernel.topology import load_topology


def free_offset() -> int:
    """A port offset at which every service port is free on loopback."""
    ports = [s.port for s in load_topology().services]
    for _ in range(200):
        offset = random.randrange(10_000, 50_000, 10)
        if not any(port_in_use(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port range found")


def dpi(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 90):
    full_env = {**os.environ, **(env or {}), "DPI_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
