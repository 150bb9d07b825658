"""Running the real `dpi` command against a private data dir and free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sandbox import launcher
from services.kernel.topology import load_topology


def free_offset() -> int:
    return launcher.free_offset(load_topology())


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
