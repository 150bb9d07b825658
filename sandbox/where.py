"""Which data directory a command acts on, and how the CLI names what it found."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from pathlib import Path

from sandbox.state import default_data_dir, in_use, running_sandboxes


def find_data_dir(explicit: str | None) -> Path:
    """`--data-dir`, else `$DPI_DATA_DIR`, else `./.dpi-data` if a sandbox runs from it, else the
    one sandbox running anywhere (the registry); several running need a choice."""
    if explicit:
        return Path(explicit).resolve()
    default = default_data_dir()
    if os.environ.get("DPI_DATA_DIR") or in_use(default):
        return default
    running = running_sandboxes()
    if len(running) > 1:
        listed = ", ".join(str(p) for p in running)
        raise ValueError(f"several sandboxes are running ({listed}); choose one with --data-dir")
    return running[0] if running else default


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for a near miss, else the empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
