"""Running sandboxes known to this user, so `dpi status/down/logs` find one from any directory.

One small file per data directory under `$DPI_STATE_HOME` (default: `$XDG_STATE_HOME/dpi-sandbox`
or `~/.local/state/dpi-sandbox`); each names a data directory whose own state file (and its live
pids) stays the truth. Stale entries are dropped when read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path


def state_home() -> Path:
    explicit = os.environ.get("DPI_STATE_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "dpi-sandbox"


def _entry(data_dir: Path) -> Path:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return state_home() / "running" / f"{digest}.json"


def register(data_dir: Path) -> None:
    """Best effort: an unwritable state home must not stop a sandbox from starting."""
    path = _entry(data_dir)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"data_dir": str(data_dir.resolve())}), encoding="utf-8")


def unregister(data_dir: Path) -> None:
    with contextlib.suppress(OSError):
        _entry(data_dir).unlink()


def registered() -> list[Path]:
    """Every data directory registered as running (not yet checked against live pids)."""
    found = []
    for path in sorted((state_home() / "running").glob("*.json")):
        try:
            found.append(Path(json.loads(path.read_text(encoding="utf-8"))["data_dir"]))
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                path.unlink()
    return found
