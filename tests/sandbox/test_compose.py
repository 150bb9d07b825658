"""The compose files and the README table are derived from the topology and kept in step."""

from __future__ import annotations

import yaml

from sandbox.generate import (
    COMPOSE,
    CONSOLE_VOLUME,
    INITDB,
    OBSERVABILITY,
    README,
    REPLICA_SAFE,
    REPLICAS,
    host,
    write_all,
)
from services.kernel.serving import HTTP_PROTOCOL
from services.kernel.topology import load_topology


def test_generated_files_are_up_to_date():
    assert write_all(check=True) == [], "run `dpi generate` and commit the result"


def test_compose_has_every_service_with_its_port_command_and_database():
    topology = load_topology()
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "console"} | {host(s) for s in topology.services}
    databases = INITDB.read_text()
    for spec in topology.services:
        entry = services[host(spec)]
        assert entry["command"][:2] == ["uvicorn", spec.app]
        command = entry["command"]
        assert command[command.index("--port") + 1] == str(spec.port)
        assert command[command.index("--http") + 1] == HTTP_PROTOCOL
        assert entry["ports"] == [f"127.0.0.1:{spec.port}:{spec.port}"]
        url = entry["environment"][f"DPI_{spec.env_name}_DATABASE_URL"]
        assert url.endswith(f"@postgres:5432/{spec.name}")
        assert f"CREATE DATABASE {spec.name};" in databases
        expected_deps = {"postgres"} | {host(topology.service(d)) for d in spec.depends_on}
        assert set(entry["depends_on"]) == expected_deps
        assert all(v == {"condition": "service_healthy"} for v in entry["depends_on"].values())
        assert "readyz" in " ".join(entry["healthcheck"]["test"])
        assert entry["mem_limit"]
        assert entry["build"]["dockerfile"] == "compose/Dockerfile"
        for other in topology.services:
            assert entry["environment"][f"DPI_{other.env_name}_URL"] == (
                f"http://{host(other)}:{other.port}"
            )
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"


def test_compose_runs_the_console_after_every_service_on_the_control_port():
    topology = load_topology()
    compose = yaml.safe_load(COMPOSE.read_text())
    entry = compose["services"]["console"]
    port = str(topology.control_port)
    assert entry["image"] == compose["services"]["id-registry"]["image"]
    command = ["python", "-m", "sandbox.console", "--host", "0.0.0.0", "--port", port]
    assert entry["command"] == command
    # every interface inside the container; on the host, loopback only, like the services
    assert entry["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert entry["env_file"] == [".env"]  # the admin key and the secret the client keys use
    for spec in topology.services:
        env = entry["environment"]
        assert env[f"DPI_{spec.env_name}_URL"] == f"http://{host(spec)}:{spec.port}"
        assert env[f"DPI_{spec.env_name}_PUBLIC_URL"] == f"http://127.0.0.1:{spec.port}"
    assert entry["depends_on"] == {
        host(spec): {"condition": "service_healthy"} for spec in topology.services
    }
    assert entry["volumes"] == [f"{CONSOLE_VOLUME}:/data"]  # runs and reports survive `down`
    assert CONSOLE_VOLUME in compose["volumes"]
    assert f"127.0.0.1:{port}/readyz" in entry["healthcheck"]["test"][-1]


def test_readme_table_lists_every_service_from_the_topology():
    text = README.read_text()
    for spec in load_topology().services:
        assert f"| `{spec.name}` | {spec.role} | {spec.port} |" in text
    assert "make demo" in text and "make test" in text


def test_observability_overlay_points_every_service_at_jaeger():
    overlay = yaml.safe_load(OBSERVABILITY.read_text())["services"]
    assert "jaeger" in overlay
    for spec in load_topology().services:
        env = overlay[host(spec)]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"


class _ComposeLoader(yaml.SafeLoader):
    """Reads Compose's merge tags (`!override`, `!reset`) as what they tag, the tag noted."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, object]:
    value = loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else None
    return {"tag": f"!{suffix}", "value": value}


_ComposeLoader.add_multi_constructor("!", _tagged)


def test_the_replica_safe_services_take_their_number_of_replicas_from_a_variable():
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    for spec in load_topology().services:
        entry = compose[host(spec)]
        if spec.name in REPLICA_SAFE:
            assert entry["deploy"] == {"replicas": "${DPI_REPLICAS:-1}"}, spec.name
        else:
            assert "deploy" not in entry, f"{spec.name} keeps state per process or container"
    assert "deploy" not in compose["console"] and "deploy" not in compose["postgres"]


def test_the_replicas_overlay_publishes_each_replica_on_a_port_of_its_own():
    text = REPLICAS.read_text()
    assert "docker compose -f compose/compose.yaml -f compose/compose.replicas.yaml up" in text
    overlay = yaml.load(text, Loader=_ComposeLoader)["services"]
    topology = load_topology()
    assert set(overlay) == {host(topology.service(name)) for name in REPLICA_SAFE}
    for name in REPLICA_SAFE:
        spec = topology.service(name)
        entry = overlay[host(spec)]
        assert entry["deploy"] == {"replicas": "${DPI_REPLICAS:-2}"}
        # the fixed host port of compose.yaml replaced, not added to: no host port, any free one
        assert entry["ports"] == {"tag": "!override", "value": [f"127.0.0.1::{spec.port}"]}
