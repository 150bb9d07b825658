"""`dpi up --docker`: the containers built from the topology (unit), and the run itself where a
Docker daemon answers."""

from __future__ import annotations

import docker
import pytest
from docker.models.containers import _create_container_args

from sandbox import docker_mode
from sandbox.docker_mode import DockerSandbox, docker_client, docker_down, up_with_docker
from sandbox.docker_specs import PROJECT_LABEL, container_specs, create_databases_command
from sandbox.launcher import LaunchError
from services.kernel.serving import HTTP_PROTOCOL
from services.kernel.topology import load_topology
from tests.sandbox.docker_fake import FakeDocker
from tests.sandbox.helpers import dpi, free_offset


def _daemon() -> str | None:
    """None when a daemon answers, else why not."""
    try:
        docker_client()
    except LaunchError as exc:
        return str(exc)
    return None


NO_DAEMON = _daemon()


def test_postgres_first_then_every_service_after_its_dependencies():
    topology = load_topology()
    specs = container_specs(topology, 100, password="pw")
    services = [s.name for s in topology.start_order()]
    assert [s.service for s in specs] == ["postgres", *services, "console"]
    seen: set[str] = set()
    for spec in specs:
        assert set(spec.depends_on) <= seen, spec.service
        seen.add(spec.service)
        assert spec.labels == {PROJECT_LABEL: "dpi-sandbox"} and spec.network == "dpi-sandbox"


def test_each_service_container_runs_its_app_on_its_port_published_with_the_offset():
    topology = load_topology()
    specs = {s.service: s for s in container_specs(topology, 100, password="pw")}
    assert specs["postgres"].ports == {}  # the database stays on the private network
    for service in topology.services:
        spec = specs[service.name]
        assert spec.name == f"dpi-sandbox-{service.name.replace('_', '-')}"
        assert spec.command is not None and spec.command[:2] == ["uvicorn", service.app]
        assert spec.command[spec.command.index("--port") + 1] == str(service.port)
        assert spec.command[-2:] == ["--http", HTTP_PROTOCOL]
        assert spec.ports == {f"{service.port}/tcp": ("127.0.0.1", service.port + 100)}
        database = spec.environment[f"DPI_{service.env_name}_DATABASE_URL"]
        assert database == (
            f"postgresql+psycopg://postgres:pw@dpi-sandbox-postgres:5432/{service.name}"
        )
        for other in topology.services:
            assert spec.environment[f"DPI_{other.env_name}_URL"] == (
                f"http://{specs[other.name].name}:{other.port}"
            )
        assert str(service.port) in spec.healthcheck["test"][-1]


def test_the_console_container_reaches_services_by_name_and_shows_the_published_urls():
    topology = load_topology()
    specs = {s.service: s for s in container_specs(topology, 100, password="pw")}
    console = specs["console"]
    assert console.name == "dpi-sandbox-console" and console.image == specs["consent"].image
    assert console.command == [
        "python",
        "-m",
        "sandbox.console",
        "--host",
        "0.0.0.0",
        "--port",
        str(topology.control_port),
    ]
    assert console.ports == {
        f"{topology.control_port}/tcp": ("127.0.0.1", topology.control_port + 100)
    }
    for service in topology.services:
        assert console.environment[f"DPI_{service.env_name}_URL"] == (
            f"http://{specs[service.name].name}:{service.port}"
        )
        assert console.environment[f"DPI_{service.env_name}_PUBLIC_URL"] == (
            f"http://127.0.0.1:{service.port + 100}"
        )
    assert set(console.depends_on) == set(topology.names())
    assert f"127.0.0.1:{topology.control_port}/readyz" in console.healthcheck["test"][-1]


def test_the_specs_are_valid_arguments_of_the_docker_sdk():
    for spec in container_specs(load_topology(), 0, password="pw", project="p"):
        kwargs = spec.run_kwargs()
        kwargs.pop("detach")
        kwargs["version"] = "1.44"  # the API version a client would have negotiated
        created = _create_container_args(kwargs)  # raises TypeError on an unknown argument
        assert created["name"] == spec.name and created["labels"] == {PROJECT_LABEL: "p"}
        assert created["host_config"]["NetworkMode"] == "p"
        if spec.ports:
            ((port, (address, published)),) = spec.ports.items()
            bindings = created["host_config"]["PortBindings"][port]
            assert bindings == [{"HostIp": address, "HostPort": str(published)}]


def test_one_database_per_service_is_created_if_missing():
    topology = load_topology()
    command = create_databases_command(topology)
    assert command[:2] == ["sh", "-c"]
    for service in topology.services:
        assert f" {service.name}" in command[2]
    assert "CREATE DATABASE $s" in command[2]


def test_up_docker_starts_the_console_last_and_prints_its_url(monkeypatch, capsys):
    topology = load_topology()
    daemon = FakeDocker()
    monkeypatch.setattr(docker_mode, "docker_client", lambda: daemon)
    offset = free_offset()
    try:
        assert up_with_docker(topology, offset, timeout=30) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert [run["name"] for run in daemon.runs] == [
            "dpi-sandbox-postgres",
            *[f"dpi-sandbox-{s.name.replace('_', '-')}" for s in topology.start_order()],
            "dpi-sandbox-console",
        ]
        console = daemon.runs[-1]
        assert console["command"][:3] == ["python", "-m", "sandbox.console"]
        port = topology.control_port
        assert console["ports"] == {f"{port}/tcp": ("127.0.0.1", port + offset)}
        assert "ready console" in out and "All 7 containers ready" in out
        assert f"│ console │ http://127.0.0.1:{port + offset} │" in out
        assert out.endswith(f"Console: http://127.0.0.1:{port + offset}")
        removed = docker_down()
        assert "dpi-sandbox-console" in removed and removed[-1] == "dpi-sandbox-postgres"
        assert daemon.networks_by_name == {}
    finally:
        daemon.close()


def test_the_pytest_plugin_can_leave_the_console_out():
    topology = load_topology()
    sandbox = DockerSandbox(topology, 0, console=False)
    assert [s.service for s in sandbox.specs] == [
        "postgres",
        *[s.name for s in topology.start_order()],
    ]


def test_without_a_daemon_up_docker_says_so(tmp_path):
    result = dpi("up", "--docker", data_dir=tmp_path, env={"DOCKER_HOST": "unix:///nonexistent"})
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "No Docker daemon answers" in message and "without --docker" in message


@pytest.mark.e2e
@pytest.mark.skipif(NO_DAEMON is not None, reason=f"no Docker daemon: {NO_DAEMON}")
def test_up_and_down_with_docker():
    sandbox = DockerSandbox(load_topology(), free_offset(), project="dpi-sandbox-test")
    ready: list[str] = []
    try:
        sandbox.up(timeout=300, on_ready=lambda name, _: ready.append(name))
        assert sorted(ready) == sorted(["postgres", *load_topology().names(), "console"])
    finally:
        client = docker.from_env()
        for container in client.containers.list(
            all=True, filters={"label": f"{PROJECT_LABEL}=dpi-sandbox-test"}
        ):
            container.remove(force=True)
        for network in client.networks.list(names=["dpi-sandbox-test"]):
            network.remove()
