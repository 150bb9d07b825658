"""Scenario runs started from the console: one batch at a time, in a worker thread."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.console.config import MEDIATOR, ConsoleConfig
from sandbox.console.live import Hub
from sandbox.scenarios.loader import LoadedScenario, load_scenario, scenario_files
from sandbox.scenarios.results import StepResult
from sandbox.scenarios.runner import Runner, new_run_id
from sandbox.trace.build import build_trace
from sandbox.trace.fetch import fetch_records
from sandbox.trace.report import TRACE_JSON, write_trace


class AlreadyRunning(Exception):
    """A batch of scenarios is still running; the message names it."""


def scenarios() -> list[LoadedScenario]:
    return [load_scenario(path) for path in scenario_files()]


@dataclass
class Batch:
    """Scenarios started together: run ids allocated up front, filled as they run."""

    runs: list[tuple[str, LoadedScenario]]
    current: str | None = None
    finished: dict[str, bool] = field(default_factory=dict)
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def step_event(run_id: str, result: StepResult) -> dict[str, Any]:
    return {
        "run": run_id,
        "index": result.index,
        "title": result.title,
        "actor": result.actor,
        "boundary": result.boundary,
        "status": result.status if result.attempts else "running",
        "durationMs": round(result.duration_ms),
        "failures": result.failures,
    }


class WebProgress:
    """The runner's progress, published to the browsers and kept for pages opened mid-run."""

    def __init__(self, hub: Hub, batch: Batch, run_id: str) -> None:
        self.hub, self.batch, self.run_id = hub, batch, run_id

    def _send(self, result: StepResult, status: str | None = None) -> None:
        event = step_event(self.run_id, result)
        if status:
            event["status"] = status
        steps = self.batch.steps.setdefault(self.run_id, [])
        steps[:] = [s for s in steps if s["index"] != result.index] + [event]
        self.hub.publish_threadsafe("step", event)

    def step_started(self, result: StepResult) -> None:
        self._send(result, "running")

    def step_finished(self, result: StepResult) -> None:
        self._send(result)


class RunManager:
    """Starts a batch unless one is running; writes each run's trace like `dpi run` does."""

    def __init__(self, config: ConsoleConfig, hub: Hub) -> None:
        self.config = config
        self.hub = hub
        self.batch: Batch | None = None
        self.lock = threading.Lock()

    def running(self) -> Batch | None:
        batch = self.batch
        if batch is None or len(batch.finished) == len(batch.runs):
            return None
        return batch

    def start(self, chosen: list[LoadedScenario]) -> list[str]:
        with self.lock:
            active = self.running()
            if active is not None:
                names = ", ".join(loaded.name for _, loaded in active.runs)
                raise AlreadyRunning(f"a run is already under way ({names})")
            ids: list[str] = []
            for _ in chosen:
                run_id = new_run_id(self.config.runs_dir)
                while run_id in ids:
                    run_id = new_run_id(self.config.runs_dir)
                ids.append(run_id)
            batch = Batch(runs=list(zip(ids, chosen, strict=True)))
            self.batch = batch
        threading.Thread(target=self._run, args=(batch,), daemon=True, name="scenarios").start()
        return ids

    def _run(self, batch: Batch) -> None:
        for run_id, loaded in batch.runs:
            batch.current = run_id
            self.hub.publish_threadsafe("run-started", {"run": run_id, "scenario": loaded.name})
            ok = False
            try:
                ok = self._one(batch, run_id, loaded)
            finally:
                batch.finished[run_id] = ok
                self.hub.publish_threadsafe("run-finished", {"run": run_id, "ok": ok})
        batch.current = None

    def _one(self, batch: Batch, run_id: str, loaded: LoadedScenario) -> bool:
        urls = self.config.url
        runner = Runner(
            urls=urls,
            admin_key=self.config.admin_key,
            progress=WebProgress(self.hub, batch, run_id),
            runs_dir=self.config.runs_dir,
        )
        result = runner.run(loaded, run_id=run_id)
        records, log_state = fetch_records(
            urls(MEDIATOR), result.trace_ids(), admin_key=self.config.admin_key
        )
        trace = build_trace(result, records, message_log=log_state)
        write_trace(trace.to_dict(), self.config.data_dir)
        return result.ok


def past_runs(runs_dir: Path, limit: int = 200) -> list[dict[str, Any]]:
    """The latest runs with a trace, newest first: id, scenario, title, outcome, start."""
    traces = sorted(runs_dir.glob(f"*/{TRACE_JSON}"), key=lambda p: p.parent.name, reverse=True)
    found = []
    for path in traces[:limit]:
        try:
            run = json.loads(path.read_text(encoding="utf-8"))["run"]
        except (OSError, ValueError, KeyError):
            continue
        found.append(run)
    return found
