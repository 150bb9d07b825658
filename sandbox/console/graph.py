"""The architecture map: nodes from `topology.yaml` around the mediator, as inline SVG.

The layout depends only on the topology's order, so it is the same on every run."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.console.html import e
from services.kernel.topology import Topology

WIDTH, HEIGHT = 1000, 600
CX, CY = WIDTH // 2, HEIGHT // 2
RX, RY = 390, 225
BOX_W, BOX_H = 200, 58
MEDIATOR_KEY = "mediator"


def key_of(member_id: str | None) -> str:
    """A DOM-safe key of a subsystem id (`DPI/GOV/MOH/hmis` -> `DPI-GOV-MOH-hmis`)."""
    return MEDIATOR_KEY if member_id is None else member_id.replace("/", "-")


@dataclass(frozen=True)
class Node:
    key: str
    title: str
    member_id: str | None
    service: str | None  # the topology service, None for a client subsystem
    x: float
    y: float


def nodes(topology: Topology) -> list[Node]:
    """The mediator in the centre; every other subsystem on an ellipse, topology order."""
    placed: list[Node] = []
    ring: list[tuple[str, str, str | None]] = []
    for spec in topology.services:
        member_id = topology.member_id(spec.name)
        if member_id is None:
            placed.append(Node(MEDIATOR_KEY, spec.title, None, spec.name, CX, CY))
        else:
            ring.append((spec.title, member_id, spec.name))
    for client in topology.clients:
        member_id = (
            f"{topology.instance}/{topology.member_class}/{client.member}/{client.subsystem}"
        )
        ring.append((client.title, member_id, None))
    for i, (title, member_id, service) in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(ring), 1)
        x = CX + RX * math.cos(angle)
        y = CY + RY * math.sin(angle)
        placed.append(Node(key_of(member_id), title, member_id, service, round(x), round(y)))
    return placed


def _node(node: Node) -> str:
    subtitle = node.member_id or "information mediator"
    kind = "service" if node.service else "client"
    return (
        f'<g class="node {kind}" id="node-{node.key}" data-key="{node.key}" '
        f'data-service="{e(node.service or "")}" tabindex="0">'
        f'<rect x="{node.x - BOX_W / 2}" y="{node.y - BOX_H / 2}" width="{BOX_W}" '
        f'height="{BOX_H}" rx="8"/>'
        f"<title>{e(node.title)}</title>"
        f'<text x="{node.x}" y="{node.y - 4}" class="title">{e(node.title.split(" (")[0])}</text>'
        f'<text x="{node.x}" y="{node.y + 15}" class="sub">{e(subtitle)}</text>'
        f'<text x="{node.x + BOX_W / 2 - 10}" y="{node.y - BOX_H / 2 + 14}" '
        f'class="badge" id="badge-{node.key}"></text></g>'
    )


def _edge(node: Node) -> str:
    """A spoke from a subsystem to the mediator: every exchange crosses two of them."""
    return (
        f'<g class="edge" id="edge-{node.key}" data-key="{node.key}" data-flows="0">'
        f'<path id="path-{node.key}" d="M{node.x},{node.y} L{CX},{CY}"/>'
        f'<path class="hit" d="M{node.x},{node.y} L{CX},{CY}"/></g>'
    )


def map_svg(topology: Topology) -> str:
    placed = nodes(topology)
    edges = "".join(_edge(n) for n in placed if n.key != MEDIATOR_KEY)
    boxes = "".join(_node(n) for n in placed)
    return (
        f'<svg id="map" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
        f'role="img" aria-label="Architecture map"><g id="edges">{edges}</g>'
        f'<g id="nodes">{boxes}</g><g id="flows"></g></svg>'
    )
