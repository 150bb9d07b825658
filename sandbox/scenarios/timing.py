"""Timings of a scenario run again and again (pilot to scale): per step and per run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from rich.markup import escape
from rich.table import Table

from sandbox.scenarios.results import RunResult


@dataclass(frozen=True)
class StepTiming:
    index: int
    title: str
    count: int
    median_ms: float
    p95_ms: float
    max_ms: float


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def step_timings(results: list[RunResult]) -> list[StepTiming]:
    """Per step: how long it took over the runs where it passed (polls included)."""
    timings = []
    for position, step in enumerate(results[0].steps):
        durations = [
            r.steps[position].duration_ms for r in results if r.steps[position].status == "passed"
        ]
        if not durations:
            continue
        timings.append(
            StepTiming(
                index=step.index,
                title=step.title,
                count=len(durations),
                median_ms=statistics.median(durations),
                p95_ms=percentile(durations, 0.95),
                max_ms=max(durations),
            )
        )
    return timings


def timing_table(name: str, results: list[RunResult], *, rate: float) -> Table:
    """Per-step timings over every run; `rate` is runs per second, measured by the caller."""
    passed = sum(1 for r in results if r.ok)
    table = Table(
        title=f"{name}: {passed}/{len(results)} runs passed, {rate:.1f} runs/s",
        title_justify="left",
    )
    for column in ("#", "step", "runs", "median ms", "p95 ms", "max ms"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for t in step_timings(results):
        table.add_row(
            str(t.index),
            escape(t.title),
            str(t.count),
            f"{t.median_ms:.1f}",
            f"{t.p95_ms:.1f}",
            f"{t.max_ms:.1f}",
        )
    return table
