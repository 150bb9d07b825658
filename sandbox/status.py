"""`dpi status`: the readiness of each service of a running sandbox, and of each replica."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx

from sandbox.children import console_spec
from sandbox.display import console, services_table
from sandbox.state import RunningService, SandboxState, live_services, load_state
from services.kernel.topology import load_topology


def _ready(client: httpx.Client, url: str) -> str:
    try:
        response = client.get(f"{url}/readyz")
    except httpx.HTTPError:
        return "not answering"
    return "ready" if response.status_code == 200 else "not ready"


def readiness(state: SandboxState | None) -> dict[str, str]:
    """Service name → its state, asked on its port; with replicas, also how many of those
    started are ready, each asked on its own port."""
    running: dict[str, list[RunningService]] = {}
    for service in live_services(state) if state else []:
        running.setdefault(service.name, []).append(service)
    found: dict[str, str] = {}
    topology = load_topology()
    with httpx.Client(timeout=2.0) as client:
        for spec in [*topology.services, console_spec(topology)]:
            processes = running.get(spec.name)
            if not processes:
                continue
            found[spec.name] = _ready(client, processes[0].url)
            replicas = [p for p in processes if p.replica]
            if replicas and state is not None:
                started = sum(1 for s in state.services if s.name == spec.name)
                ready = sum(1 for p in replicas if _ready(client, p.own_url) == "ready")
                found[spec.name] += f", {ready}/{started} replicas ready"
    return found


def cmd_status(args: argparse.Namespace, data_dir: Path, offset: int) -> int:
    state = load_state(data_dir)
    offset = state.port_offset if state else offset
    found = readiness(state)
    topology = load_topology()
    console.print(services_table(topology, offset, found))
    total = len(topology.services)
    ready = sum(1 for name, v in found.items() if v.startswith("ready") and name != "console")
    console.print(f"{ready}/{total} services ready.")
    if not found:
        console.print(f"No sandbox is running from {data_dir}; start one with `dpi up -d`.")
    return 0 if ready == total else 1
