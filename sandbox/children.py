"""A process the launcher tracks: a service, one of a service's replicas, or the console."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from sandbox.display import console
from sandbox.ports import HOST, accepting
from sandbox.processes import LaunchMode, ServiceProcess
from services.kernel.topology import ServiceSpec, Topology


@dataclass
class Child:
    spec: ServiceSpec
    port: int
    process: ServiceProcess
    log: Path
    how: LaunchMode = "spawn"
    replica: int = 0  # 1…N among the service's replicas; 0: its only process
    own_port: int | None = None  # a replica's own port (the service's port is shared)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def own_url(self) -> str:
        """Where this process alone answers (a replica's own port, else the service's)."""
        return self.url if self.own_port is None else f"http://{HOST}:{self.own_port}"

    def ready(self, client: httpx.Client) -> bool:
        """Its `/readyz` answers 200 (for a replica, on its own port); asked only once something
        listens there: nothing does before its lifespan has run."""
        port = self.own_port or self.port
        return accepting(port) and client.get(f"{self.own_url}/readyz").status_code == 200

    @property
    def label(self) -> str:
        return f"{self.spec.name} replica {self.replica}" if self.replica else self.spec.name


def replica_name(replica: int) -> str:
    """What replica `replica` is called: in its environment, its log file, `dpi logs`."""
    return f"r{replica}"


def replica_env(env: dict[str, str], spec: ServiceSpec, replica: int) -> dict[str, str]:
    """Replica `replica`'s environment: its name in `DPI_<SERVICE>_REPLICA` (the mediator keeps
    one message-log chain per replica under it)."""
    return {**env, f"DPI_{spec.env_name}_REPLICA": replica_name(replica)}


def replica_log_name(service: str, replica: int) -> str:
    """A replica's log file under `logs/` (without `.log`): each replica writes its own, so every
    line, uvicorn's own and a crash's traceback included, tells which replica wrote it."""
    return f"{service}.{replica_name(replica)}"


def console_spec(topology: Topology) -> ServiceSpec:
    """The console as the launcher runs it: a process on the topology's control port."""
    return ServiceSpec(
        name="console",
        title="Workshop console",
        app="sandbox.console.main:app",
        port=topology.control_port,
        member=None,
        subsystem=None,
        role="Web view of the sandbox: map, exchange log, scenarios, credentials",
        models="OpenHIM console, Kiali, Jaeger",
        depends_on=("interop_layer",),
    )


def print_ready(child: Child, elapsed: float) -> None:
    console.print(f"  [green]ready[/green] {child.label:<18} {elapsed:5.1f}s")
