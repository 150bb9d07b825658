"""Where the console finds the sandbox: topology, data directory, port offset, admin key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.state import default_data_dir
from services.kernel.topology import ServiceSpec, Topology, load_topology, port_offset

HOST = "127.0.0.1"
MEDIATOR = "interop_layer"


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console reads; `urls` overrides a service's base URL (tests, `DPI_<NAME>_URL`)."""

    topology: Topology
    data_dir: Path
    port_offset: int = 0
    admin_key: str = "dpi-admin"
    urls: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = 0.4

    def url(self, name: str) -> str:
        if name in self.urls:
            return self.urls[name].rstrip("/")
        spec = self.topology.service(name)
        override = os.environ.get(f"DPI_{spec.env_name}_URL")
        if override:
            return override.rstrip("/")
        return f"http://{HOST}:{spec.port + self.port_offset}"

    @property
    def console_url(self) -> str:
        return f"http://{HOST}:{self.topology.control_port + self.port_offset}"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    def member_of(self, spec: ServiceSpec) -> str | None:
        return self.topology.member_id(spec.name)


def config_from_env() -> ConsoleConfig:
    """The console of the sandbox this process belongs to (the launcher sets the environment)."""
    data_dir = Path(os.environ["DPI_DATA_DIR"]) if "DPI_DATA_DIR" in os.environ else None
    return ConsoleConfig(
        topology=load_topology(),
        data_dir=(data_dir or default_data_dir()).resolve(),
        port_offset=port_offset(),
        admin_key=os.environ.get("DPI_ADMIN_KEY", "dpi-admin"),
    )
