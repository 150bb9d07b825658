"""`dpi logs SERVICE`: a service's log, or its replicas' logs (`logs/<service>.r<i>.log`, one
file each) merged in time order with each line prefixed by the replica's name."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sandbox.children import replica_log_name, replica_name
from sandbox.display import format_log_line
from sandbox.stopping import tail

_REPLICA_FILE = re.compile(r"\.r(\d+)\.log$")


def _log_file(logs: Path, service: str, replica: int) -> Path:
    return logs / f"{replica_log_name(service, replica)}.log"


def log_files(logs: Path, service: str, replica: int | None = None) -> dict[str, Path]:
    """The service's log files by replica name (`r1`, …; `""` for a service of one process)."""
    if replica is not None:
        path = _log_file(logs, service, replica)
        return {replica_name(replica): path} if path.exists() else {}
    found: dict[int, Path] = {}
    for path in logs.glob(f"{service}.*.log"):
        match = _REPLICA_FILE.search(path.name)
        if match and path == _log_file(logs, service, int(match.group(1))):
            found[int(match.group(1))] = path
    if found:
        return {replica_name(n): found[n] for n in sorted(found)}
    single = logs / f"{service}.log"
    return {"": single} if single.exists() else {}


def _stamp(line: str) -> str | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry.get("ts") if isinstance(entry, dict) else None


def merged_tail(files: dict[str, Path], lines: int) -> list[tuple[str, str]]:
    """The last `lines` lines of all `files` as (replica, line), in time order: JSON lines by
    their `ts`, any other line (a traceback, uvicorn's first lines) right after the line before it
    in its own file."""
    keyed: list[tuple[str, int, str, str]] = []
    for name, path in files.items():
        last = ""
        for index, line in enumerate(tail(path, lines)):
            last = _stamp(line) or last
            keyed.append((last, index, name, line))
    keyed.sort(key=lambda item: (item[0], item[2], item[1]))
    return [(name, line) for _, _, name, line in keyed[-lines:]]


def show_logs(files: dict[str, Path], *, lines: int, follow: bool, raw: bool) -> None:
    show: Callable[[str], str] = (lambda line: line) if raw else format_log_line

    def emit(name: str, line: str) -> None:
        print(f"[{name}] {show(line)}" if name else show(line), flush=True)

    for name, line in merged_tail(files, lines):
        emit(name, line)
    if not follow:
        return
    handles: dict[str, TextIO] = {}
    try:
        for name, path in files.items():
            handles[name] = path.open(encoding="utf-8", errors="replace")
            handles[name].seek(0, 2)
        while True:
            quiet = True
            for name, handle in handles.items():
                while line := handle.readline():
                    quiet = False
                    emit(name, line.rstrip("\n"))
            if quiet:
                time.sleep(0.2)
    except KeyboardInterrupt:
        return
    finally:
        for handle in handles.values():
            handle.close()
