"""The built wheel, installed into a fresh venv outside the checkout, gives a working `dpi`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import USE_POSTGRES
from tests.sandbox.helpers import free_offset

REPO = Path(__file__).resolve().parents[2]
SKIPPED = (".venv", ".git", "build", "*.egg-info", ".dpi-data", "*_cache", "__pycache__")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(USE_POSTGRES, reason="runs once, in the SQLite pass (builds a wheel)"),
]


@dataclass
class Installed:
    bin: Path
    home: Path  # a directory outside the checkout, the working directory of every command

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DPI_", "PYTHON"))}
        env.update({"DPI_STATE_HOME": str(self.home / "state"), "COLUMNS": "200"})
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.home,
            env=env,
            timeout=timeout,
            check=False,
        )


def _pip(python: Path | str, *args: str) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*SKIPPED))
    _pip(sys.executable, "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source))
    (wheel,) = (work / "dist").glob("dpi_sandbox-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, timeout=120)
    _pip(work / "venv" / "bin" / "python", "install", "-q", str(wheel))
    home = work / "home"
    home.mkdir()
    yield Installed(work / "venv" / "bin", home)
    Installed(work / "venv" / "bin", home).run("dpi", "down", "--data-dir", str(home / "d"))


def test_runtime_dependencies_leave_out_the_test_tools(installed):
    listed = installed.run("python", "-m", "pip", "list", "--format=json")
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "dpi-sandbox" in names and "uvicorn" in names
    assert not names & {"pytest", "mypy", "ruff", "hypothesis", "fhir.resources", "schemathesis"}


def test_dpi_works_from_the_wheel_outside_the_checkout(installed):
    version = installed.run("dpi", "--version")
    assert version.returncode == 0 and version.stdout.strip() == "dpi-sandbox 0.1.0"
    listing = installed.run("dpi", "scenarios")
    assert listing.returncode == 0 and "sandbox-tour" in listing.stdout, listing.stdout
    assert "extend-with-an-app" in listing.stdout and "invalid" not in listing.stdout
    data = installed.home / "d"
    offset = free_offset()
    up = installed.run("dpi", "up", "-d", "--data-dir", str(data), "--port-offset", str(offset))
    assert up.returncode == 0, up.stdout + up.stderr
    assert "All 5 services ready" in up.stdout
    console = f"http://127.0.0.1:{8000 + offset}"  # the console, its assets from the wheel
    assert httpx.get(f"{console}/static/console.js").status_code == 200
    assert 'id="node-mediator"' in httpx.get(console).text
    # the bundled app and the packaged seed file, named relative to the repository
    run = installed.run("dpi", "run", "--data-dir", str(data), "extend-with-an-app", "sandbox-tour")
    assert run.returncode == 0, run.stdout + run.stderr
    down = installed.run("dpi", "down")  # found through the registry, from another directory
    assert down.returncode == 0 and "Stopped:" in down.stdout, down.stdout + down.stderr
    assert installed.run("dpi", "status", "--data-dir", str(data)).returncode == 1


def test_the_example_adapter_passes_against_the_installed_wheel(installed):
    _pip(installed.bin / "python", "install", "-q", "pytest>=8", "dhis2-client>=0.3")
    project = installed.home / "adapter"
    shutil.copytree(REPO / "examples" / "adapter", project, ignore=shutil.ignore_patterns(*SKIPPED))
    result = subprocess.run(
        [str(installed.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DPI_", "PYTHON"))},
            "DPI_STATE_HOME": str(installed.home / "state"),
        },
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "3 passed" in result.stdout
