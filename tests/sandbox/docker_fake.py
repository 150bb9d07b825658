"""A Docker daemon stand-in for `dpi up --docker` where none runs: it checks every `run` against
the Docker SDK's own argument builder, and a "running" container answers `/readyz` on the port
it publishes (as a healthy one would), so the real readiness loop and URL table run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from docker.models.containers import _create_container_args


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/readyz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class ExecResult:
    exit_code: int
    output: bytes = b""


@dataclass
class FakeContainer:
    name: str
    labels: dict[str, str]
    server: ThreadingHTTPServer | None
    status: str = "running"
    execs: list[Any] = field(default_factory=list)

    def reload(self) -> None:
        return

    def exec_run(self, command: Any) -> ExecResult:
        self.execs.append(command)
        return ExecResult(0)

    def logs(self, tail: int = 15) -> bytes:
        return b""

    def stop(self, timeout: int = 10) -> None:
        self.status = "exited"
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def remove(self) -> None:
        self.stop()


class _Containers:
    def __init__(self, daemon: FakeDocker) -> None:
        self.daemon = daemon

    def run(self, **kwargs: Any) -> FakeContainer:
        args = {k: v for k, v in kwargs.items() if k != "detach"}
        _create_container_args({**args, "version": "1.44"})  # TypeError on a bad argument
        self.daemon.runs.append(kwargs)
        server = None
        for address, port in kwargs["ports"].values():
            server = ThreadingHTTPServer((address, port), _Ready)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        container = FakeContainer(kwargs["name"], kwargs["labels"], server)
        self.daemon.containers_by_name[container.name] = container
        return container

    def list(self, all: bool = False, filters: dict[str, str] | None = None) -> list[Any]:
        key, _, value = (filters or {}).get("label", "=").partition("=")
        return [c for c in self.daemon.containers_by_name.values() if c.labels.get(key) == value]


@dataclass
class _Network:
    name: str
    labels: dict[str, str]
    daemon: FakeDocker

    def remove(self) -> None:
        self.daemon.networks_by_name.pop(self.name)


class _Networks:
    def __init__(self, daemon: FakeDocker) -> None:
        self.daemon = daemon

    def create(self, name: str, labels: dict[str, str]) -> _Network:
        network = _Network(name, labels, self.daemon)
        self.daemon.networks_by_name[name] = network
        return network

    def list(self, filters: dict[str, str]) -> list[_Network]:
        key, _, value = filters["label"].partition("=")
        return [n for n in self.daemon.networks_by_name.values() if n.labels.get(key) == value]


class _Images:
    def __init__(self) -> None:
        self.built: list[dict[str, Any]] = []

    def build(self, **kwargs: Any) -> None:
        self.built.append(kwargs)


class FakeDocker:
    """What `sandbox.docker_mode` calls on a client of the Docker SDK."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.containers_by_name: dict[str, FakeContainer] = {}
        self.networks_by_name: dict[str, _Network] = {}
        self.images = _Images()
        self.containers = _Containers(self)
        self.networks = _Networks(self)

    def close(self) -> None:
        for container in self.containers_by_name.values():
            container.stop()
