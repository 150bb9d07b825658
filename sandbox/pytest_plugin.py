"""The pytest plugin (entry point `pytest11: dpi_sandbox`): a session fixture `dpi_sandbox` that
starts the sandbox on free ports in a temporary data directory and stops it at the end, or
attaches to a running one (`--dpi-url` / `$DPI_SANDBOX_URL`). See docs/integrators.md."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sandbox.handle import DpiSandbox
    from services.kernel.topology import Topology

# Every pytest run in an environment with the wheel loads this module: what a sandbox needs
# (the launcher, httpx, the topology) is imported only by a session that uses one.
URL_ENV = "DPI_SANDBOX_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dpi-sandbox", "DPI Sandbox")
    group.addoption(
        "--dpi-url",
        default=None,
        help=f"attach to a running sandbox: its mediator's base URL (default ${URL_ENV}); "
        "without it the dpi_sandbox fixture starts its own",
    )
    group.addoption(
        "--dpi-timeout", type=float, default=60.0, help="seconds the sandbox has to be ready"
    )
    group.addoption(
        "--dpi-docker",
        action="store_true",
        help="start the sandbox as containers (Docker SDK; give --dpi-timeout for the build)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dpi_fault(provider, kind='error', **options): a fault rule at the sandbox's mediator "
        "for the test (see dpi_sandbox.fault)",
    )


@pytest.fixture(autouse=True)
def _dpi_fault_markers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Apply the test's `dpi_fault` markers for its duration (nothing without one)."""
    markers = list(request.node.iter_markers("dpi_fault"))
    if not markers:
        yield
        return
    sandbox: DpiSandbox = request.getfixturevalue("dpi_sandbox")
    with contextlib.ExitStack() as stack:
        for marker in markers:
            stack.enter_context(sandbox.fault(*marker.args, **marker.kwargs))
        yield


def _attach_url(config: pytest.Config) -> str | None:
    value = config.getoption("dpi_url") or os.environ.get(URL_ENV)
    return str(value).rstrip("/") if value else None


def pytest_sessionstart(session: pytest.Session) -> None:
    url = _attach_url(session.config)
    if url is None:
        return
    import httpx

    try:
        answered = httpx.get(f"{url}/readyz", timeout=3).json().get("service")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        answered = f"nothing usable ({type(exc).__name__})"
    if answered != "interop_layer":
        pytest.exit(
            f"--dpi-url {url}: no DPI sandbox mediator answers there (got {answered}). Start one "
            "with `dpi up -d` and pass DPI_INTEROP_LAYER_URL from `dpi env`, or drop --dpi-url "
            "and the dpi_sandbox fixture starts its own.",
            returncode=4,
        )


def attached(topology: Topology, url: str) -> DpiSandbox:
    """A running sandbox found from its mediator's URL: same host, same port offset."""
    from urllib.parse import urlsplit

    from sandbox.env import sandbox_env
    from sandbox.handle import DpiSandbox

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    offset = port - topology.service("interop_layer").port
    env = sandbox_env(topology, None, offset, host=parts.hostname or "127.0.0.1")
    return DpiSandbox(topology, env)


@pytest.fixture(scope="session")
def dpi_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DpiSandbox]:
    """A running sandbox for the whole session (see `sandbox.handle.DpiSandbox`)."""
    from sandbox.env import sandbox_env
    from sandbox.handle import DpiSandbox
    from sandbox.launcher import Launcher, LaunchError, free_offset
    from services.kernel.topology import load_topology

    topology = load_topology()
    url = _attach_url(request.config)
    if url is not None:
        handle = attached(topology, url)
        yield handle
        handle.close_clients()
        return
    if request.config.getoption("dpi_docker"):
        yield from _in_docker(topology, request.config.getoption("dpi_timeout"))
        return
    launcher = Launcher(topology, tmp_path_factory.mktemp("dpi-sandbox"), free_offset(topology))
    try:
        launcher.start()
        launcher.wait_ready(timeout=request.config.getoption("dpi_timeout"))
    except LaunchError as exc:
        launcher.stop()
        pytest.fail(f"the DPI sandbox did not start: {exc}", pytrace=False)
    handle = DpiSandbox(topology, sandbox_env(topology, launcher.data_dir, None), launcher)
    try:
        yield handle
    finally:
        handle.close_clients()
        launcher.stop()


def _in_docker(topology: Topology, timeout: float) -> Iterator[DpiSandbox]:
    from sandbox.docker_mode import DockerSandbox, docker_down
    from sandbox.env import sandbox_env
    from sandbox.handle import DpiSandbox
    from sandbox.launcher import LaunchError, free_offset

    offset = free_offset(topology)
    project = f"dpi-sandbox-{offset}"
    try:
        sandbox = DockerSandbox(topology, offset, project=project, console=False)
        sandbox.up(timeout=timeout, on_ready=_quiet)
    except LaunchError as exc:
        with contextlib.suppress(LaunchError):
            docker_down(project)
        pytest.fail(f"the DPI sandbox did not start in Docker: {exc}", pytrace=False)
    handle = DpiSandbox(topology, sandbox_env(topology, None, offset))
    try:
        yield handle
    finally:
        handle.close_clients()
        docker_down(project)


def _quiet(name: str, elapsed: float) -> None:
    pass
