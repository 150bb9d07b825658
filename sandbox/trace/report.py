"""Write a run's trace files under `<data dir>/runs/<run id>/` and summarise them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox.trace.diagram import diagram_of, short, to_mermaid
from sandbox.trace.html import render_html
from sandbox.trace.svg import to_svg

TRACE_JSON = "trace.json"
MERMAID = "sequence.mmd"
BOUNDARY = "boundary.md"
HTML = "report.html"


def runs_dir(data_dir: Path) -> Path:
    return data_dir / "runs"


def _fields_text(exchange: dict[str, Any], direction: str) -> str:
    flows = [f for f in exchange["fields"] if f["direction"] == direction]
    if not flows:
        return "—"
    shown = [f"{f['field']} ({f['category']})" for f in flows if f["category"] != "other"]
    others = len(flows) - len(shown)
    if others:
        shown.append(f"{others} other")
    return ", ".join(shown)


def _consent(exchange: dict[str, Any]) -> str:
    reason = exchange.get("reason")
    return f"{exchange['consent']}: {reason}" if reason else str(exchange["consent"])


def boundary_markdown(trace: dict[str, Any]) -> str:
    """For each exchange: consumer → provider, purpose, consent, the fields that crossed."""
    run = trace["run"]
    lines = [
        f"# Boundary report — {run['title']} (run {run['run_id']})",
        "",
        f"Message log: {trace['messageLog']}.",
        "",
        "| step | consumer → provider | service | purpose | consent | status | "
        "request fields | response fields |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in trace["exchanges"]:
        lines.append(
            f"| {e['step']} | {short(e['consumer'])} → {short(e['provider'])} | "
            f"{e['service']} | {e['purpose'] or '—'} | {_consent(e)} | {e['status']} | "
            f"{_fields_text(e, 'request')} | {_fields_text(e, 'response')} |"
        )
    if not trace["exchanges"]:
        lines.append("| — | no exchange through the mediator | | | | | | |")
    lines += ["", "## Direct identifiers reaching a sector", ""]
    if trace["findings"]:
        lines += [
            f"- step {f['step']}, exchange {f['exchange']}: {f['reason']} "
            f"({', '.join(f['fields'])}) in the {f['direction']} to {f['destination']}"
            for f in trace["findings"]
        ]
    else:
        lines.append("None: no direct identifier crossed into a sector.")
    return "\n".join(lines) + "\n"


def write_trace(trace: dict[str, Any], data_dir: Path) -> Path:
    """Write trace.json, sequence.mmd, boundary.md and report.html; return the run's dir."""
    directory = runs_dir(data_dir) / str(trace["run"]["run_id"])
    directory.mkdir(parents=True, exist_ok=True)
    diagram = diagram_of(trace)
    mermaid = to_mermaid(diagram)
    (directory / TRACE_JSON).write_text(
        json.dumps(trace, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    (directory / MERMAID).write_text(mermaid, encoding="utf-8")
    (directory / BOUNDARY).write_text(boundary_markdown(trace), encoding="utf-8")
    html = render_html(trace, mermaid=mermaid, svg=to_svg(diagram))
    (directory / HTML).write_text(html, encoding="utf-8")
    return directory


def read_trace(data_dir: Path, run_id: str | None = None) -> tuple[Path, dict[str, Any]]:
    """A run's trace (the latest when `run_id` is None); FileNotFoundError names what exists."""
    base = runs_dir(data_dir)
    traces = sorted(base.glob(f"*/{TRACE_JSON}"), key=lambda p: p.stat().st_mtime)
    known = [p.parent.name for p in traces]
    if run_id is None:
        if not known:
            raise FileNotFoundError(f"no run recorded under {base}")
        run_id = known[-1]
    path = base / run_id / TRACE_JSON
    if not path.exists():
        listed = ", ".join(known[-5:]) or "none"
        raise FileNotFoundError(f"no run {run_id!r} under {base} (latest: {listed})")
    trace: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return path.parent, trace


def summary_lines(trace: dict[str, Any], directory: Path | None = None) -> list[str]:
    """What `dpi trace RUN_ID` prints: outcome, steps, exchanges, findings, files."""
    run = trace["run"]
    outcome = "passed" if run["ok"] else "FAILED"
    lines = [
        f"Run {run['run_id']}: {run['title']} ({run['scenario']}) — {outcome}",
        f"Pattern: {run['pattern']}",
        f"Started {run['started_at']}, finished {run['finished_at']}.",
        f"Message log: {trace['messageLog']}.",
        "Steps:",
    ]
    for step in run["steps"]:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[step["status"]]
        lines.append(f"  {mark} {step['index']:>2}. {step['title']} — trace {step['trace_id']}")
    lines.append(f"Exchanges through the mediator: {len(trace['exchanges'])}")
    for e in trace["exchanges"]:
        purpose = f" purpose={e['purpose']}" if e["purpose"] else ""
        consent = f" consent={e['consent']}" if e["consent"] != "not required" else ""
        if e.get("reason"):
            consent += f" ({e['reason']})"
        lines.append(
            f"  step {e['step']}: {short(e['consumer'])} → {short(e['provider'])} "
            f"{e['method']} {e['service']} {e['status']}{purpose}{consent}"
        )
    if trace["findings"]:
        lines.append(
            f"Boundary check: {len(trace['findings'])} direct identifier(s) reached a sector:"
        )
        lines += [
            f"  step {f['step']}: {f['reason']} ({', '.join(f['fields'])}) → {f['destination']}"
            for f in trace["findings"]
        ]
    else:
        lines.append("Boundary check: no direct identifier crossed into a sector.")
    if directory is not None:
        lines.append(f"Report: {directory / HTML}")
    return lines
