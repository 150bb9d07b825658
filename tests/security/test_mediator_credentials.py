"""Outgoing calls to the mediator: every service names itself as its topology member, with its
own key, and only the kernel's mediator client builds those headers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.kernel.credentials import CLIENT_KEY_HEADER, client_key
from services.kernel.mediator import CLIENT_HEADER, MediatorClient
from services.kernel.topology import load_topology

SERVICES = Path(__file__).resolve().parents[2] / "services"
# the mediator checks these headers; the kernel builds them; nobody else may
ALLOWED = ("interop_layer", "kernel")


def test_each_member_service_calls_as_its_topology_member_with_its_own_key() -> None:
    topology = load_topology()
    members = [spec.name for spec in topology.services if topology.member_id(spec.name)]
    assert {"id_registry", "registries", "sectoral_platform"} <= set(members)
    keys = set()
    for name in members:
        member = topology.member_id(name)
        assert member is not None
        headers = MediatorClient(name, secret="shared-secret").headers
        assert headers == {
            CLIENT_HEADER: member,
            CLIENT_KEY_HEADER: client_key(member, "shared-secret"),
        }
        keys.add(headers[CLIENT_KEY_HEADER])
    assert len(keys) == len(members)  # no two members share a key
    with pytest.raises(ValueError, match="no member id"):
        MediatorClient("interop_layer")


def _hand_built_credentials(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and node.value in (CLIENT_HEADER, CLIENT_KEY_HEADER):
            found.append(f"{path}:{node.lineno}: {node.value!r}")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "client_key":
                found.append(f"{path}:{node.lineno}: client_key(...)")
    return found


def test_no_service_builds_mediator_credentials_by_hand() -> None:
    modules = [
        path
        for path in SERVICES.rglob("*.py")
        if path.relative_to(SERVICES).parts[0] not in ALLOWED
    ]
    assert len(modules) > 100  # the scan sees the services
    offenders = [hit for path in modules for hit in _hand_built_credentials(path)]
    assert offenders == [], "use services.kernel.mediator.MediatorClient:\n" + "\n".join(offenders)
