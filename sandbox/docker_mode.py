"""`dpi up --docker` / `dpi down --docker`: the one image and PostgreSQL as containers, through
the Docker SDK for Python (no compose binary), from the topology (`docker_specs.py`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from sandbox.display import console, console_url, err_console, services_table
from sandbox.docker_specs import (
    CONSOLE,
    IMAGE,
    PROJECT_LABEL,
    ContainerSpec,
    container_specs,
    create_databases_command,
)
from sandbox.launcher import LaunchError
from services.kernel.topology import Topology

CHECKOUT = Path(__file__).resolve().parents[1]
PASSWORD_ENV = "POSTGRES_PASSWORD"


def docker_client() -> Any:
    """A client of a daemon that answers, or a LaunchError that says what to do."""
    try:
        import docker
    except ImportError as exc:
        raise LaunchError(
            "Docker mode needs the Docker SDK for Python: pip install 'dpi-sandbox[docker]'."
        ) from exc
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise LaunchError(
            f"No Docker daemon answers ({exc}). Start Docker, or run without --docker: the "
            "embedded sandbox needs no Docker."
        ) from exc
    return client


def _labelled(client: Any, project: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"}))


def _tail(container: Any, lines: int = 15) -> str:
    return bytes(container.logs(tail=lines)).decode("utf-8", errors="replace")


class DockerSandbox:
    def __init__(
        self,
        topology: Topology,
        port_offset: int,
        project: str = "dpi-sandbox",
        *,
        console: bool = True,
    ) -> None:
        self.topology = topology
        self.port_offset = port_offset
        self.project = project
        password = os.environ.get(PASSWORD_ENV, "dpi-sandbox-postgres")
        specs = container_specs(topology, port_offset, project=project, password=password)
        # the workshop console last, unless not wanted (the pytest plugin, as embedded)
        self.specs = [s for s in specs if console or s.service != CONSOLE]

    def up(self, *, timeout: float, on_ready: Callable[[str, float], None]) -> float:
        client = docker_client()
        if _labelled(client, self.project):
            raise LaunchError(
                f"Containers of {self.project} exist already; `dpi down --docker` first."
            )
        if not (CHECKOUT / "compose" / "Dockerfile").is_file():
            raise LaunchError("Docker mode builds compose/Dockerfile: run it from a checkout.")
        started = time.monotonic()
        client.images.build(path=str(CHECKOUT), dockerfile="compose/Dockerfile", tag=IMAGE, rm=True)
        client.networks.create(self.project, labels={PROJECT_LABEL: self.project})
        postgres, *services = self.specs
        self._start_postgres(client, postgres, deadline=started + timeout)
        on_ready("postgres", time.monotonic() - started)
        containers = {spec.service: client.containers.run(**spec.run_kwargs()) for spec in services}
        self._wait_services(containers, services, started, timeout, on_ready)
        return time.monotonic() - started

    def _start_postgres(self, client: Any, spec: ContainerSpec, *, deadline: float) -> None:
        container = client.containers.run(**spec.run_kwargs())
        while container.exec_run(["pg_isready", "-U", "postgres"]).exit_code != 0:
            if time.monotonic() > deadline:
                raise LaunchError(f"PostgreSQL did not answer:\n{_tail(container)}")
            time.sleep(0.5)
        result = container.exec_run(create_databases_command(self.topology))
        if result.exit_code != 0:
            raise LaunchError(f"Creating the databases failed: {result.output!r}")

    def _wait_services(
        self,
        containers: dict[str, Any],
        specs: list[ContainerSpec],
        started: float,
        timeout: float,
        on_ready: Callable[[str, float], None],
    ) -> None:
        pending = list(specs)
        with httpx.Client(timeout=1.0) as http:
            while pending:
                for spec in list(pending):
                    container = containers[spec.service]
                    container.reload()
                    if container.status == "exited":
                        raise LaunchError(
                            f"{spec.service} exited. Last log lines:\n{_tail(container)}"
                        )
                    port = next(iter(spec.ports.values()))[1]
                    try:
                        ready = http.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
                    except httpx.HTTPError:
                        ready = False
                    if ready:
                        pending.remove(spec)
                        on_ready(spec.service, time.monotonic() - started)
                if pending and time.monotonic() > started + timeout:
                    names = ", ".join(s.service for s in pending)
                    raise LaunchError(f"Not ready after {timeout:.0f}s: {names}.")
                if pending:
                    time.sleep(0.2)


def docker_down(project: str = "dpi-sandbox") -> list[str]:
    """Stop and remove the project's containers (services first) and its network."""
    client = docker_client()
    stopped = []
    for container in sorted(_labelled(client, project), key=lambda c: c.name.endswith("-postgres")):
        container.stop(timeout=10)
        container.remove()
        stopped.append(container.name)
    for network in client.networks.list(filters={"label": f"{PROJECT_LABEL}={project}"}):
        network.remove()
    return stopped


def up_with_docker(topology: Topology, offset: int, timeout: float) -> int:
    """`dpi up --docker`: the same readiness display and URL table as the embedded sandbox."""
    sandbox = DockerSandbox(topology, offset)

    def ready(name: str, elapsed: float) -> None:
        console.print(f"  [green]ready[/green] {name:<18} {elapsed:5.1f}s")

    console.print(f"Building the image and starting {len(sandbox.specs)} containers…")
    try:
        elapsed = sandbox.up(timeout=timeout, on_ready=ready)
    except LaunchError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return 1
    console.print(services_table(topology, offset))
    count = len(sandbox.specs)
    console.print(
        f"All {count} containers ready in {elapsed:.1f}s; `dpi down --docker` stops them."
    )
    console.print(f"[bold]Console: {console_url(topology, offset)}[/bold]")
    return 0


def down_with_docker() -> int:
    try:
        stopped = docker_down()
    except LaunchError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return 1
    console.print(f"Removed: {', '.join(stopped)}" if stopped else "No containers are running.")
    return 0
