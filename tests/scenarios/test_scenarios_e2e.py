"""Every scenario against the embedded sandbox (real processes), and the trace of a known run."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.launcher import Launcher, LaunchError, free_offset
from sandbox.scenarios.commands import resolve_urls
from sandbox.scenarios.loader import load_scenario, scenario_files
from sandbox.scenarios.parser import BODIES_ENV
from sandbox.scenarios.runner import Runner
from sandbox.state import load_state
from sandbox.trace.build import build_trace
from sandbox.trace.fetch import fetch_records
from services.kernel.topology import load_topology

pytestmark = pytest.mark.e2e

HEALTH, SCHOOL = "DPI/GOV/MOH/hmis", "DPI/GOV/MOE/emis"
IDAUTH = "DPI/GOV/NIA/id-registry/idauth"

# The call graph of `one-person-a-token-per-sector`, as the mediator must have logged it:
# (step, consumer, service, status, forwarded to the provider)
KNOWN_RUN = [
    (2, HEALTH, IDAUTH, 200, True),
    (3, SCHOOL, IDAUTH, 200, True),
    (4, SCHOOL, IDAUTH, 200, True),
    (5, SCHOOL, IDAUTH, 200, True),
    (6, SCHOOL, "DPI/GOV/MOH/hmis/dhis2", 500, False),
    (7, HEALTH, IDAUTH, 500, False),
]


@dataclass
class Sandbox:
    data_dir: Path
    offset: int
    urls: Callable[[str], str]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One embedded sandbox for the module, its mediator logging bodies in full."""
    data_dir = tmp_path_factory.mktemp("scenarios") / "data"
    launcher = start_sandbox(data_dir)
    try:
        yield Sandbox(data_dir, launcher.port_offset, resolve_urls(data_dir, None))
    finally:
        launcher.stop()


def start_sandbox(data_dir: Path, attempts: int = 3) -> Launcher:
    """Start on free ports; another process may take a port between the check and the bind
    (ephemeral ports of outgoing connections), so a lost race is retried on other ports."""
    topology = load_topology()
    previous = os.environ.get(BODIES_ENV)
    os.environ[BODIES_ENV] = "full"
    try:
        for attempt in range(attempts):
            launcher = Launcher(topology, data_dir, free_offset(topology))
            try:
                launcher.start()
                launcher.wait_ready(timeout=60)
            except LaunchError as exc:
                launcher.stop()
                if "already in use" not in str(exc) or attempt == attempts - 1:
                    raise
                continue
            return launcher
    finally:
        if previous is None:
            os.environ.pop(BODIES_ENV, None)
        else:
            os.environ[BODIES_ENV] = previous
    raise AssertionError("unreachable")


def run_dir(stdout: str) -> Path:
    """The run directory the CLI reported."""
    found = re.search(r"Report of [\w-]+: (\S+)/report\.html", stdout)
    assert found, stdout
    return Path(found.group(1))


def dpi(*args: str, sandbox: Sandbox) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args, "--data-dir", str(sandbox.data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_scenario_passes_against_the_embedded_sandbox(sandbox: Sandbox, path: Path) -> None:
    loaded = load_scenario(path)
    result = Runner(urls=sandbox.urls).run(loaded)
    assert result.ok, result.failure_message()
    records, state = fetch_records(sandbox.urls("interop_layer"), result.trace_ids())
    assert state == "ok"
    trace = build_trace(result, records)
    assert trace.findings == [], trace.findings
    mediated = sum(1 for step in loaded.scenario.steps if step.request.mediated)
    assert len([e for e in trace.exchanges if e.by_runner]) == mediated


def test_the_trace_of_a_known_run_holds_exactly_the_expected_exchanges(sandbox: Sandbox) -> None:
    run = dpi("run", "one-person-a-token-per-sector", sandbox=sandbox)
    assert run.returncode == 0, run.stdout + run.stderr
    trace: dict[str, Any] = json.loads((run_dir(run.stdout) / "trace.json").read_text())
    assert trace["messageLog"] == "ok"
    exchanges = [e for e in trace["exchanges"] if e["kind"] == "exchange"]
    graph = [
        (e["step"], e["consumer"], e["service"], e["status"], e["forwarded"]) for e in exchanges
    ]
    assert graph == KNOWN_RUN
    first = exchanges[0]
    assert first["fields_source"] == "message-log"
    crossed = {(f["direction"], f["field"]): f["category"] for f in first["fields"]}
    assert crossed[("request", "individualId")] == "direct_identifier"
    assert crossed[("response", "response.authToken")] == "sector_token"
    assert {f["destination"] for f in first["fields"] if f["direction"] == "request"} == {
        "DPI/GOV/NIA/id-registry"
    }
    assert trace["findings"] == []
    steps = trace["run"]["steps"]
    assert all(s["trace_id"].startswith(trace["run"]["run_id"]) for s in steps)
    assert {e["trace_id"] for e in exchanges} <= {s["trace_id"] for s in steps}
    summary = dpi("trace", trace["run"]["run_id"], sandbox=sandbox)
    assert summary.returncode == 0, summary.stderr
    assert "MOE/emis → MOH/hmis GET DPI/GOV/MOH/hmis/dhis2 500" in summary.stdout
    assert "no direct identifier crossed into a sector" in summary.stdout


def test_a_wrong_expectation_fails_naming_the_scenario_and_step(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bad = tmp_path / "wrong-expectation.yaml"
    bad.write_text(
        """
title: Wrong on purpose
pattern: Testing the runner
summary: The second step expects what the service does not answer.
description: A scenario whose second expectation is wrong.
steps:
  - title: The mediator is alive
    actor: Operator
    boundary: operator → interop_layer
    request: {service: interop_layer, path: /healthz}
    expect: {status: 200}
  - title: The consent service is a teapot
    actor: Operator
    boundary: operator → consent
    request: {service: consent, path: /info}
    expect:
      status: 418
      json: {memberId: DPI/GOV/DPA/teapot}
  - title: Never reached
    actor: Operator
    boundary: operator → consent
    request: {service: consent, path: /healthz}
"""
    )
    result = dpi("run", str(bad), sandbox=sandbox)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert (
        'Scenario "Wrong on purpose" (wrong-expectation) failed at step 2 '
        '"The consent service is a teapot"' in message
    )
    assert "status: expected 418, got 200" in message
    assert 'json memberId: expected equals "DPI/GOV/DPA/teapot", got "DPI/GOV/DPA/consent"' in (
        message
    )
    trace = json.loads((run_dir(result.stdout) / "trace.json").read_text())
    assert [s["status"] for s in trace["run"]["steps"]] == ["passed", "failed", "skipped"]


def test_run_with_up_starts_a_sandbox_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "own"
    for _ in range(3):  # a port lost to another process between check and bind: other ports
        offset = free_offset(load_topology())
        where = ["--port-offset", str(offset), "--data-dir", str(data_dir)]
        result = subprocess.run(
            [sys.executable, "-m", "sandbox.cli", "run", "sandbox-tour", "--up", *where],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if "already in use" not in result.stderr:
            break
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
    assert load_state(data_dir) is None  # stopped again
    assert len(list((data_dir / "runs").glob("*/report.html"))) == 1


def test_repeated_runs_report_timings_per_step(sandbox: Sandbox) -> None:
    result = dpi("run", "sandbox-tour", "--repeat", "3", sandbox=sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sandbox-tour: 3/3 runs passed" in result.stdout
    assert "The national ID system is alive" in result.stdout and "p95 ms" in result.stdout
