"""The logic behind `dpi scenarios`, `dpi run` and `dpi trace` (the CLI only registers them)."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.markup import escape
from rich.table import Table

from sandbox.display import console, err_console
from sandbox.launcher import Launcher, LaunchError, print_ready, stop_on_signals
from sandbox.scenarios.loader import (
    LoadedScenario,
    ScenarioError,
    find_scenario,
    load_scenario,
    scenario_files,
)
from sandbox.scenarios.model import Scenario
from sandbox.scenarios.parser import BODIES_ENV
from sandbox.scenarios.progress import ConsoleProgress
from sandbox.scenarios.results import RunResult
from sandbox.scenarios.runner import Runner
from sandbox.scenarios.timing import timing_table
from sandbox.state import default_data_dir, live_services, load_state
from sandbox.trace.build import build_trace
from sandbox.trace.fetch import fetch_records
from sandbox.trace.report import HTML, read_trace, runs_dir, summary_lines, write_trace
from services.kernel.topology import load_topology, port_offset


def data_dir_of(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).resolve() if args.data_dir else default_data_dir()


def resolve_urls(data_dir: Path, offset: int | None) -> Callable[[str], str]:
    """Base URL per service: `DPI_<NAME>_URL`, else the topology's port plus an explicit
    offset, else the running sandbox's state, else the topology's port plus `DPI_PORT_OFFSET`."""
    topology = load_topology()
    state = load_state(data_dir) if offset is None else None
    running = {s.name: s.url for s in live_services(state)} if state else {}
    if offset is None:
        offset = state.port_offset if state else port_offset()

    def url(name: str) -> str:
        spec = topology.service(name)
        override = os.environ.get(f"DPI_{spec.env_name}_URL")
        if override:
            return override.rstrip("/")
        return running.get(name) or f"http://127.0.0.1:{spec.port + offset}"

    return url


def services_used(loaded: LoadedScenario) -> list[str]:
    names = set(loaded.scenario.needs)
    for step in loaded.scenario.steps:
        if step.request.mediated:
            names.add("interop_layer")
        elif step.request.service and "${" not in step.request.service:
            names.add(step.request.service)
    return sorted(names)


def unreachable(urls: Callable[[str], str], names: list[str]) -> list[str]:
    """Services among `names` whose /healthz does not answer 200."""
    down = []
    with httpx.Client(timeout=2.0) as client:
        for name in names:
            try:
                ok = client.get(f"{urls(name)}/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            if not ok:
                down.append(f"{name} ({urls(name)})")
    return down


def run_and_trace(
    loaded: LoadedScenario, *, urls: Callable[[str], str], data_dir: Path
) -> tuple[RunResult, Path]:
    """Run one scenario with live progress, then write its trace; return both."""
    console.print(
        f"\n[bold]{escape(loaded.scenario.title)}[/bold] [dim]({loaded.name}) — "
        f"{escape(loaded.scenario.pattern)}[/dim]"
    )
    progress = ConsoleProgress(console, len(loaded.scenario.steps))
    runner = Runner(urls=urls, progress=progress, runs_dir=runs_dir(data_dir))
    result = runner.run(loaded)
    records, log_state = fetch_records(urls("interop_layer"), result.trace_ids())
    trace = build_trace(result, records, message_log=log_state)
    directory = write_trace(trace.to_dict(), data_dir)
    return result, directory


def _select(args: argparse.Namespace) -> list[LoadedScenario]:
    if args.all:
        paths = scenario_files()
    elif args.scenario:
        paths = [find_scenario(name) for name in args.scenario]
    else:
        raise ScenarioError("name a scenario (see `dpi scenarios`) or pass --all")
    return [load_scenario(path) for path in paths]


def cmd_run(args: argparse.Namespace) -> int:
    try:
        chosen = _select(args)
    except ScenarioError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    data_dir = data_dir_of(args)
    launcher: Launcher | None = None
    try:
        if args.up:
            stop_on_signals()  # Ctrl-C and `kill` both stop the services
            os.environ.setdefault(BODIES_ENV, "full")
            offset = args.port_offset if args.port_offset is not None else port_offset()
            launcher = Launcher(load_topology(), data_dir, offset)
            console.print(f"Starting the sandbox (data: {launcher.data_dir}) …")
            launcher.start()
            elapsed = launcher.wait_ready(timeout=args.timeout, on_ready=print_ready)
            console.print(f"All {len(launcher.children)} services ready in {elapsed:.1f}s.")
        urls = resolve_urls(data_dir, args.port_offset)
        needed = sorted({name for loaded in chosen for name in services_used(loaded)})
        down = unreachable(urls, needed)
        if down:
            err_console.print(
                f"[red]error:[/red] not answering: {', '.join(down)}. Start the sandbox "
                "(`dpi up -d`), or pass --up to start one for this run."
            )
            return 1
        if args.repeat > 1:
            return repeat_runs(chosen, urls=urls, data_dir=data_dir, times=args.repeat)
        return run_many(chosen, urls=urls, data_dir=data_dir)
    except LaunchError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    except KeyboardInterrupt:
        err_console.print("Interrupted.")
        return 130
    finally:
        if launcher is not None:
            launcher.stop()


def run_many(chosen: list[LoadedScenario], *, urls: Callable[[str], str], data_dir: Path) -> int:
    """Run and trace each scenario, then the table and failures; 1 if any failed."""
    return report([run_and_trace(loaded, urls=urls, data_dir=data_dir) for loaded in chosen])


def run_all_scenarios(*, data_dir: Path, port_offset: int | None = None) -> int:
    """Every scenario against a sandbox that is up (for `dpi demo`): progress, table, reports."""
    chosen = [load_scenario(path) for path in scenario_files()]
    return run_many(chosen, urls=resolve_urls(data_dir, port_offset), data_dir=data_dir)


def repeat_runs(
    chosen: list[LoadedScenario], *, urls: Callable[[str], str], data_dir: Path, times: int
) -> int:
    """Each scenario `times` times; the first run is traced, every run is timed."""
    failed = False
    for loaded in chosen:
        first, directory = run_and_trace(loaded, urls=urls, data_dir=data_dir)
        results = [first]
        runner = Runner(urls=urls, runs_dir=runs_dir(data_dir))
        started = time.monotonic()
        with console.status(f"{loaded.name}: {times - 1} more runs"):
            results += [runner.run(loaded) for _ in range(times - 1)]
        rate = (times - 1) / max(time.monotonic() - started, 1e-9)  # untraced runs only
        console.print(timing_table(loaded.name, results, rate=rate))
        console.print(f"Trace of the first run: {directory / HTML}", soft_wrap=True)
        broken = next((r for r in results if not r.ok), None)
        if broken is not None:
            failed = True
            err_console.print(f"[red]{escape(broken.failure_message() or '')}[/red]")
    return 1 if failed else 0


def report(results: list[tuple[RunResult, Path]]) -> int:
    table = Table(title="Scenario runs", title_justify="left")
    for column in ("scenario", "result", "steps", "run id"):
        table.add_column(column, no_wrap=True)
    for result, _ in results:
        passed = sum(1 for s in result.steps if s.status == "passed")
        outcome = "[green]passed[/green]" if result.ok else "[red]FAILED[/red]"
        table.add_row(
            result.scenario,
            outcome,
            f"{passed}/{len(result.steps)}",
            result.run_id,
        )
    console.print()
    console.print(table)
    for result, directory in results:
        console.print(f"Report of {result.scenario}: {directory / HTML}", soft_wrap=True)
    console.print("Summary of a run: `dpi trace RUN_ID`.")
    failed = [result for result, _ in results if not result.ok]
    for result in failed:
        err_console.print(f"[red]{escape(result.failure_message() or '')}[/red]")
    return 1 if failed else 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    if args.schema:
        print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))
        return 0
    table = Table(title="Scenarios (`dpi run NAME`)", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("pattern")
    table.add_column("what it shows")
    bad = 0
    for path in scenario_files():
        try:
            loaded = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            table.add_row(path.stem, "[red]invalid[/red]", escape(str(exc)))
            continue
        scenario = loaded.scenario
        table.add_row(loaded.name, escape(scenario.pattern), escape(scenario.summary))
    console.print(table)
    return 1 if bad else 0


def cmd_trace(args: argparse.Namespace) -> int:
    try:
        directory, trace = read_trace(data_dir_of(args), args.run_id)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    for line in summary_lines(trace, directory):
        console.print(escape(line))
    return 0 if trace["run"]["ok"] and not trace["findings"] else 1
