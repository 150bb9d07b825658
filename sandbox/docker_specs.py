"""Containers for `dpi up --docker`, straight from the topology: PostgreSQL, one container per
service of the one image and the workshop console, on a private network, each port published on
loopback plus the offset.

Plain data (no Docker import), so the specs are unit-tested where no daemon runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.console.config import container_command, container_environment
from services.kernel.serving import HTTP_PROTOCOL
from services.kernel.topology import ServiceSpec, Topology

IMAGE = "dpi-sandbox:latest"
POSTGRES_IMAGE = "postgres:16-alpine"
PROJECT_LABEL = "dpi-sandbox.project"
SERVICE_MEMORY = "256m"
POSTGRES_MEMORY = "512m"
SECOND_NS = 1_000_000_000
CONSOLE = "console"  # the workshop console's container, after the services


def host(spec: ServiceSpec) -> str:
    return spec.name.replace("_", "-")


@dataclass(frozen=True)
class ContainerSpec:
    """One container as `docker.containers.run(**spec.run_kwargs())` starts it."""

    name: str  # also its host name on the network
    service: str  # topology service name, or `postgres`
    image: str
    command: list[str] | None
    environment: dict[str, str]
    ports: dict[str, tuple[str, int]]
    network: str
    labels: dict[str, str]
    healthcheck: dict[str, Any]
    mem_limit: str
    depends_on: tuple[str, ...] = field(default=())

    def run_kwargs(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "command": self.command,
            "name": self.name,
            "hostname": self.name,
            "environment": self.environment,
            "ports": self.ports,
            "network": self.network,
            "labels": self.labels,
            "healthcheck": self.healthcheck,
            "mem_limit": self.mem_limit,
            "detach": True,
        }


def _probe(port: int) -> list[str]:
    readyz = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/readyz')"
    return ["CMD", "python", "-c", readyz]


def _health(test: list[str]) -> dict[str, Any]:
    return {
        "test": test,
        "interval": 3 * SECOND_NS,
        "timeout": 3 * SECOND_NS,
        "retries": 20,
        "start_period": 5 * SECOND_NS,
    }


def container_specs(
    topology: Topology,
    offset: int,
    *,
    project: str = "dpi-sandbox",
    password: str,
    image: str = IMAGE,
) -> list[ContainerSpec]:
    """PostgreSQL first, then every service in start order, then the console."""
    labels = {PROJECT_LABEL: project}
    network = project
    postgres = ContainerSpec(
        name=f"{project}-postgres",
        service="postgres",
        image=POSTGRES_IMAGE,
        command=None,
        environment={"POSTGRES_PASSWORD": password},
        ports={},
        network=network,
        labels=labels,
        healthcheck=_health(["CMD-SHELL", "pg_isready -U postgres"]),
        mem_limit=POSTGRES_MEMORY,
    )
    specs = [postgres]
    internal = {s.name: f"http://{project}-{host(s)}:{s.port}" for s in topology.services}
    urls = {f"DPI_{s.env_name}_URL": internal[s.name] for s in topology.services}
    for spec in topology.start_order():
        database = f"postgresql+psycopg://postgres:{password}@{postgres.name}:5432/{spec.name}"
        specs.append(
            ContainerSpec(
                name=f"{project}-{host(spec)}",
                service=spec.name,
                image=image,
                command=[
                    "uvicorn",
                    spec.app,
                    "--host",
                    "0.0.0.0",
                    "--port",
                    str(spec.port),
                    "--no-access-log",
                    "--http",
                    HTTP_PROTOCOL,
                ],
                environment={f"DPI_{spec.env_name}_DATABASE_URL": database, **urls},
                ports={f"{spec.port}/tcp": ("127.0.0.1", spec.port + offset)},
                network=network,
                labels=labels,
                healthcheck=_health(_probe(spec.port)),
                mem_limit=SERVICE_MEMORY,
                depends_on=("postgres", *spec.depends_on),
            )
        )
    port = topology.control_port
    # its run directory (DPI_DATA_DIR=/data) lives and goes with the container, like the database
    specs.append(
        ContainerSpec(
            name=f"{project}-console",
            service=CONSOLE,
            image=image,
            command=container_command(port),
            environment=container_environment(topology, internal, offset),
            ports={f"{port}/tcp": ("127.0.0.1", port + offset)},
            network=network,
            labels=labels,
            healthcheck=_health(_probe(port)),
            mem_limit=SERVICE_MEMORY,
            depends_on=tuple(s.name for s in topology.start_order()),
        )
    )
    return specs


def create_databases_command(topology: Topology) -> list[str]:
    """Run in the PostgreSQL container once it answers: one database per service, if missing."""
    names = " ".join(spec.name for spec in topology.services)
    exists = "psql -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = '$s'\" | grep -q 1"
    create = 'psql -U postgres -c "CREATE DATABASE $s"'
    return ["sh", "-c", f"for s in {names}; do {exists} || {create} || exit 1; done"]
