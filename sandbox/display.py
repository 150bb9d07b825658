"""What the CLI shows: service tables and log lines, readable in a terminal and in CI logs."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from services.kernel.topology import Topology

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def console_url(topology: Topology, offset: int) -> str:
    """The workshop console on the host, in every launch mode (its port published on loopback)."""
    return f"http://127.0.0.1:{topology.control_port + offset}"


def services_table(
    topology: Topology, offset: int, readiness: dict[str, str] | None = None
) -> Table:
    table = Table(title="DPI Sandbox", title_justify="left")
    table.add_column("service", no_wrap=True)
    table.add_column("URL", no_wrap=True)
    table.add_column("API docs", no_wrap=True)
    if readiness is not None:
        table.add_column("state")
    for spec in topology.start_order():
        url = f"http://127.0.0.1:{spec.port + offset}"
        row = [spec.name, url, f"{url}/docs"]
        if readiness is not None:
            state = readiness.get(spec.name, "stopped")
            colour = "green" if state.startswith("ready") else "red"
            row.append(f"[{colour}]{state}[/{colour}]")
        table.add_row(*row)
    row = ["console", console_url(topology, offset), "(start here: map, log, scenarios)"]
    if readiness is not None:
        state = readiness.get("console", "stopped")
        colour = "green" if state == "ready" else "red"
        row.append(f"[{colour}]{state}[/{colour}]")
    table.add_row(*row)
    return table


def format_log_line(line: str) -> str:
    """A JSON log line as `time LEVEL message [trace]`; anything else unchanged."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict) or "msg" not in entry:
        return line
    trace = f" trace={entry['trace_id']}" if "trace_id" in entry else ""
    extra = f"\n{entry['exc']}" if "exc" in entry else ""
    return f"{entry.get('ts', '')} {entry.get('level', ''):<7} {entry['msg']}{trace}{extra}"
