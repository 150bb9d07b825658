"""The sandbox's ports on loopback: checked free before a start, and, for replicas, bound by the
launcher and handed to every replica of a service (see `sandbox/serve.py`)."""

from __future__ import annotations

import contextlib
import errno
import random
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.errors import LaunchError
from services.kernel.topology import ServiceSpec, Topology

HOST = "127.0.0.1"
BACKLOG = 2048  # uvicorn's default


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def accepting(port: int, host: str = HOST) -> bool:
    """Something listens on `port`: a refused connection costs a few microseconds where an HTTP
    client's refused request costs 0.13 ms, so readiness can be polled often."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.connect((host, port))
        except OSError:
            return False
    return True


def check_ports(specs: Iterable[ServiceSpec], offset: int) -> None:
    for spec in specs:
        port = spec.port + offset
        if not 0 < port < 65536:
            raise LaunchError(f"{spec.name}: port {port} is out of range (check --port-offset).")
        if port_in_use(port):
            raise LaunchError(
                f"Port {port} for {spec.name} is already in use on {HOST}. Stop what uses it, or "
                f"shift every port with --port-offset N (or DPI_PORT_OFFSET=N)."
            )


def free_offset(topology: Topology, attempts: int = 200) -> int:
    """A port offset at which every service port is free on loopback (for tests and benches)."""
    ports = [s.port for s in topology.services] + [topology.control_port]
    for _ in range(attempts):
        # below Linux's ephemeral range (32768+), where outgoing connections take ports
        offset = random.randrange(10_000, 24_000, 10)
        if not any(port_in_use(p + offset) for p in ports):
            return offset
    raise LaunchError("no free range of ports found on loopback")


def listen(port: int, name: str) -> socket.socket:
    """A listening socket on loopback that children inherit (port 0: any free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise LaunchError(
            f"Port {port} for {name} is already in use on {HOST} ({exc.strerror}). Stop what "
            "uses it, or shift every port with --port-offset N (or DPI_PORT_OFFSET=N)."
        ) from None
    sock.set_inheritable(True)
    return sock


@dataclass
class ReplicaSockets:
    """For N replicas of each service: the service's port, shared by its replicas, and one
    port of its own per replica (where the launcher and `dpi status` ask that replica alone)."""

    shared: dict[str, socket.socket] = field(default_factory=dict)
    own: dict[tuple[str, int], socket.socket] = field(default_factory=dict)

    @classmethod
    def bind(cls, specs: Iterable[ServiceSpec], offset: int, replicas: int) -> ReplicaSockets:
        bound = cls()
        try:
            for spec in specs:
                bound.shared[spec.name] = listen(spec.port + offset, spec.name)
                for replica in range(1, replicas + 1):
                    bound.own[spec.name, replica] = listen(0, f"{spec.name} replica {replica}")
        except BaseException:
            bound.close()
            raise
        return bound

    def fds(self) -> list[int]:
        return [s.fileno() for s in (*self.shared.values(), *self.own.values())]

    def of(self, name: str, replica: int) -> tuple[list[int], int]:
        """The fds replica `replica` of `name` serves on, and its own port."""
        own = self.own[name, replica]
        return [self.shared[name].fileno(), own.fileno()], int(own.getsockname()[1])

    def close(self) -> None:
        """The launcher's copies: the replicas keep theirs."""
        for sock in (*self.shared.values(), *self.own.values()):
            with contextlib.suppress(OSError):
                sock.close()
        self.shared.clear()
        self.own.clear()
