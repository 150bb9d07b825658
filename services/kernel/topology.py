"""The declarative topology (`topology.yaml`): services, ports, member identifiers, dependencies."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.kernel import yamlfile

_CHECKOUT_PATH = Path(__file__).resolve().parents[2] / "topology.yaml"
_BUNDLED_PATH = Path(__file__).resolve().parent / "data" / "topology.yaml"  # in a built wheel
DEFAULT_PATH = _CHECKOUT_PATH if _CHECKOUT_PATH.is_file() else _BUNDLED_PATH


class ServiceSpec(BaseModel):
    """One service of the sandbox as the topology declares it."""

    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    app: str
    port: int
    member: str | None
    subsystem: str | None
    role: str
    models: str
    depends_on: tuple[str, ...] = ()

    @property
    def env_name(self) -> str:
        return self.name.upper()


class ClientSpec(BaseModel):
    """A client subsystem that is not a running service (a sector that consumes services)."""

    model_config = ConfigDict(frozen=True)

    member: str
    subsystem: str
    title: str


class SubscriptionSpec(BaseModel):
    """A durable subscription: the mediator creates it at start, before any event is published,
    so nothing published while the subscriber is still starting is missed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subscriber: str  # a topology service
    room: str  # the publishing topology service, whose member id names the room
    event_type: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,99}$")
    delivery: Literal["PUSH", "PULL"] = "PUSH"
    push_path: str | None = Field(default=None, pattern=r"^/")  # on the subscriber's service
    ttl: int = Field(default=3600, ge=1)
    fifo: bool = False


class Topology(BaseModel):
    """The whole sandbox: the X-Road-style instance, member class and the services."""

    model_config = ConfigDict(frozen=True)

    instance: str
    member_class: str
    control_port: int = 8000  # the workshop console's
    services: tuple[ServiceSpec, ...]
    clients: tuple[ClientSpec, ...] = ()
    subscriptions: tuple[SubscriptionSpec, ...] = ()

    def service(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        raise KeyError(f"unknown service {name!r}; known: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [spec.name for spec in self.services]

    def member_id(self, name: str) -> str | None:
        """`INSTANCE/CLASS/MEMBER/SUBSYSTEM` of a service, or None for the mediator itself."""
        spec = self.service(name)
        if spec.member is None or spec.subsystem is None:
            return None
        return f"{self.instance}/{self.member_class}/{spec.member}/{spec.subsystem}"

    def subsystems(self) -> dict[str, str]:
        """Every member subsystem id (services and clients) with its title."""
        found = {
            f"{self.instance}/{self.member_class}/{s.member}/{s.subsystem}": s.title
            for s in self.services
            if s.member and s.subsystem
        }
        for client in self.clients:
            member_id = f"{self.instance}/{self.member_class}/{client.member}/{client.subsystem}"
            found[member_id] = client.title
        return found

    def check_subscriptions(self) -> None:
        """Subscriber and room are member services; PUSH has a path; no (sub, room, type) twice."""
        seen: set[tuple[str, str, str]] = set()
        for sub in self.subscriptions:
            for name in (sub.subscriber, sub.room):
                if self.member_id(name) is None:
                    raise ValueError(f"subscription to {sub.event_type!r}: {name} is no member")
            if sub.delivery == "PUSH" and not sub.push_path:
                raise ValueError(f"PUSH subscription to {sub.event_type!r} needs push_path")
            key = (sub.subscriber, sub.room, sub.event_type)
            if key in seen:
                raise ValueError(f"subscription declared twice: {' / '.join(key)}")
            seen.add(key)

    def start_order(self) -> list[ServiceSpec]:
        """Services ordered so that each comes after everything it depends on."""
        ordered: list[ServiceSpec] = []
        seen: set[str] = set()

        def visit(spec: ServiceSpec, stack: tuple[str, ...]) -> None:
            if spec.name in seen:
                return
            if spec.name in stack:
                raise ValueError(f"dependency cycle: {' -> '.join((*stack, spec.name))}")
            for dep in spec.depends_on:
                visit(self.service(dep), (*stack, spec.name))
            seen.add(spec.name)
            ordered.append(spec)

        for spec in self.services:
            visit(spec, ())
        return ordered


def topology_path() -> Path:
    return Path(os.environ.get("DPI_TOPOLOGY", DEFAULT_PATH))


@lru_cache(maxsize=4)
def _load(path: Path) -> Topology:
    with path.open(encoding="utf-8") as handle:
        topology = Topology.model_validate(yamlfile.safe_load(handle))
    topology.start_order()  # validates dependencies exist and have no cycle
    topology.check_subscriptions()
    return topology


def load_topology() -> Topology:
    return _load(topology_path())


def port_offset() -> int:
    raw = os.environ.get("DPI_PORT_OFFSET", "0")
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"DPI_PORT_OFFSET must be an integer, got {raw!r}") from exc


def service_url(name: str) -> str:
    """Base URL of a service: `DPI_<NAME>_URL` if set, else loopback at its port plus the offset."""
    spec = load_topology().service(name)
    override = os.environ.get(f"DPI_{spec.env_name}_URL")
    if override:
        return override.rstrip("/")
    return f"http://127.0.0.1:{spec.port + port_offset()}"
