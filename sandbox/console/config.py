"""Where the console finds the sandbox: topology, data directory, port offset, admin key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.state import default_data_dir
from services.kernel.topology import ServiceSpec, Topology, load_topology, port_offset

HOST = "127.0.0.1"
HOST_ENV = "DPI_CONSOLE_HOST"  # the address it binds: 0.0.0.0 in a container
MEDIATOR = "interop_layer"


def public_url_env(spec: ServiceSpec) -> str:
    """Where a person on the host reaches a service, when the console reaches it elsewhere."""
    return f"DPI_{spec.env_name}_PUBLIC_URL"


def container_command(port: int) -> list[str]:
    """The console in a container (compose, `dpi up --docker`, Kubernetes): bound to every
    interface inside it; the port is published on the host's loopback (or behind an Ingress)."""
    return ["python", "-m", "sandbox.console", "--host", "0.0.0.0", "--port", str(port)]


def container_environment(
    topology: Topology, internal: Mapping[str, str], offset: int
) -> dict[str, str]:
    """Each service by its name on the container network (`internal`, by topology name) for the
    console's own calls, and by its published loopback port for the pages' links and curls."""
    env: dict[str, str] = {}
    for spec in topology.services:
        env[f"DPI_{spec.env_name}_URL"] = internal[spec.name]
    for spec in topology.services:
        env[public_url_env(spec)] = f"http://{HOST}:{spec.port + offset}"
    return env


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console reads. `url` is where the console's process reaches a service (`urls`,
    `DPI_<NAME>_URL`: a container name in Docker); `public_url` is what the pages show a person on
    the host (`public_urls`, `DPI_<NAME>_PUBLIC_URL`); both default to loopback plus the offset."""

    topology: Topology
    data_dir: Path
    port_offset: int = 0
    admin_key: str = "dpi-admin"
    urls: Mapping[str, str] = field(default_factory=dict)
    public_urls: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = 0.4

    def url(self, name: str) -> str:
        if name in self.urls:
            return self.urls[name].rstrip("/")
        spec = self.topology.service(name)
        override = os.environ.get(f"DPI_{spec.env_name}_URL")
        if override:
            return override.rstrip("/")
        return self._loopback(spec)

    def public_url(self, name: str) -> str:
        """The base URL for links and copy-paste curls: never a container's or a pod's name."""
        if name in self.public_urls:
            return self.public_urls[name].rstrip("/")
        spec = self.topology.service(name)
        override = os.environ.get(public_url_env(spec))
        if override:
            return override.rstrip("/")
        return self._loopback(spec)

    def _loopback(self, spec: ServiceSpec) -> str:
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
