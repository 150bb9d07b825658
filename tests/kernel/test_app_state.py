"""A service keeps nothing on `app.state` but the kernel's `KernelState` and its own runtime.

Static: every module of each service listed below is parsed, and any `<app>.state.<name>` (or
`getattr`/`setattr` on an app's `state`) other than `kernel` and `runtime` is reported, whether
`<app>` is `app`, `request.app`, `scope["app"]` or any other expression ending in an app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES_ROOT = Path(__file__).resolve().parents[2] / "services"
# The services whose state is typed; a service joins once nothing else of it is on `app.state`.
TYPED_SERVICES = (
    "id_registry",
    "consent",
    "registries",
    "interop_layer",
    "sectoral_platform",
    "kernel",
)
ALLOWED = frozenset({"kernel", "runtime"})
STATE_OWNER = SERVICES_ROOT / "kernel" / "runtime.py"  # the one module that reads `app.state`


def _is_app(node: ast.expr) -> bool:
    """`app`, `<anything>.app` or `<anything>["app"]`."""
    if isinstance(node, ast.Name):
        return node.id == "app"
    if isinstance(node, ast.Attribute):
        return node.attr == "app"
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and key.value == "app"
    return False


def _is_app_state(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "state" and _is_app(node.value)


def untyped_state(source: str) -> list[str]:
    """Each use of an app's `state` other than `.kernel` and `.runtime`, as source text."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr) or not _is_app_state(node):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr in ALLOWED:
            continue
        found.append(ast.unparse(parent if isinstance(parent, ast.expr) else node))
    return found


@pytest.mark.parametrize("service", TYPED_SERVICES)
def test_a_service_puts_only_its_runtime_on_app_state(service: str) -> None:
    root = SERVICES_ROOT / service
    found = {
        f"{path.relative_to(SERVICES_ROOT)}: {use}"
        for path in sorted(root.rglob("*.py"))
        if path != STATE_OWNER
        for use in untyped_state(path.read_text())
    }
    assert not found, "read it through kernel_state(app) or the service's runtime"


@pytest.mark.parametrize(
    "source",
    [
        "x = request.app.state.settings",
        "app.state.drainer = None",
        'expected = scope["app"].state.settings.key',
        'drainer = getattr(request.app.state, "drainer", None)',
        "state = self.app.state",
    ],
)
def test_the_scan_reports_other_state(source: str) -> None:
    assert untyped_state(source)


@pytest.mark.parametrize(
    "source",
    [
        "kernel = request.app.state.kernel",
        "app.state.runtime = runtime",
        "record.state = 'signed'",
        "candidate.state == 'live'",
    ],
)
def test_the_scan_allows_the_kernel_the_runtime_and_other_states(source: str) -> None:
    assert untyped_state(source) == []
