"""What every part of the national-volume benchmark shares: its deadline, its growth table, and
latency summaries."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class DeadlineReached(Exception):
    """The part's time is up: the sizes not reached are reported as skipped."""


@dataclass
class Part:
    name: str
    seconds: float
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def check(self, what: str = "") -> None:
        if self.left() <= 0:
            raise DeadlineReached(f"{self.name}: deadline of {self.seconds:.0f} s reached {what}")

    def progress(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"  [{self.name} {elapsed:6.1f} s] {message}", flush=True)

    def row(self, *cells: object) -> None:
        self.rows.append([c if isinstance(c, str) else f"{c:,}" for c in cells])

    def table(self) -> str:
        widths = [
            max([len(self.columns[i]), *(len(r[i]) for r in self.rows)])
            for i in range(len(self.columns))
        ]
        lines = [
            "| " + " | ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)) + " |",
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        for cells in self.rows:
            lines.append(
                "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
            )
        return "\n".join(lines)


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of `repeat` sequential calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def median(times: list[float]) -> float:
    return statistics.median(times)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
