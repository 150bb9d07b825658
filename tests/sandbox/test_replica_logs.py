"""`dpi up --replicas N` gives each replica its own log (`logs/<service>.r<i>.log`): `dpi logs
SERVICE` merges them in time order, each line prefixed by its replica; `--replica I` shows one."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.children import replica_log_name
from sandbox.logview import log_files, merged_tail
from tests.sandbox.helpers import dpi


def line(ts: str, msg: str) -> str:
    return json.dumps({"ts": ts, "level": "INFO", "service": "consent", "msg": msg})


def replica_logs(data_dir: Path) -> Path:
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / f"{replica_log_name('consent', 1)}.log").write_text(
        "INFO:     Started server process [101]\n"
        + line("2026-01-01T00:00:01.000+00:00", "one first") + "\n"
        + line("2026-01-01T00:00:03.000+00:00", "one failed") + "\n"
        + "Traceback (most recent call last):\n"
        + line("2026-01-01T00:00:05.000+00:00", "one last") + "\n"
    )  # fmt: skip
    (logs / f"{replica_log_name('consent', 2)}.log").write_text(
        line("2026-01-01T00:00:02.000+00:00", "two first") + "\n"
        + line("2026-01-01T00:00:04.000+00:00", "two last") + "\n"
    )  # fmt: skip
    (logs / "consent.log").write_text(line("2025-01-01T00:00:00.000+00:00", "an older run") + "\n")
    (logs / "consent.rx.log").write_text("not a replica's\n")
    return logs


def test_the_replicas_logs_merge_in_time_order(tmp_path: Path) -> None:
    logs = replica_logs(tmp_path)
    files = log_files(logs, "consent")
    assert list(files) == ["r1", "r2"]
    merged = [(name, text.split('"msg": "')[-1].rstrip('"}')) for name, text in
              merged_tail(files, 50)]  # fmt: skip
    assert merged == [
        ("r1", "INFO:     Started server process [101]"),
        ("r1", "one first"),
        ("r2", "two first"),
        ("r1", "one failed"),
        ("r1", "Traceback (most recent call last):"),  # with the line before it
        ("r2", "two last"),
        ("r1", "one last"),
    ]
    assert [name for name, _ in merged_tail(files, 2)] == ["r2", "r1"]
    assert list(log_files(logs, "consent", 2)) == ["r2"]
    assert log_files(logs, "consent", 3) == {}
    assert list(log_files(logs, "registries")) == []


def test_dpi_logs_names_each_replica(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    replica_logs(data_dir)
    shown = dpi("logs", "consent", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "[r1] INFO:     Started server process [101]"
    assert [row.split()[0] for row in lines] == ["[r1]"] * 2 + ["[r2]", "[r1]", "[r1]"] + [
        "[r2]",
        "[r1]",
    ]
    assert lines[2].endswith("INFO    two first") and "older run" not in shown.stdout
    one = dpi("logs", "consent", "--replica", "2", "-n", "1", data_dir=data_dir)
    assert one.returncode == 0 and one.stdout.splitlines() == [
        "[r2] 2026-01-01T00:00:04.000+00:00 INFO    two last"
    ]
    missing = dpi("logs", "consent", "--replica", "3", data_dir=data_dir)
    assert missing.returncode == 1 and "no log yet for replica r3 of consent" in missing.stderr
