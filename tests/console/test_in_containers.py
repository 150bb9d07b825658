"""The console as compose runs it: it reaches each service by its container name, while its pages
show the loopback URLs (published ports) a person on the host can call."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
import yaml
from fastapi import FastAPI

from sandbox.console.app import create_app
from sandbox.console.config import config_from_env
from sandbox.console.graph import key_of
from sandbox.generate import COMPOSE
from services.kernel.testing import serve_in_process
from services.kernel.topology import load_topology

pytestmark = pytest.mark.anyio
COMPOSE_ENV: dict[str, str] = yaml.safe_load(COMPOSE.read_text())["services"]["console"][
    "environment"
]
CONTAINER_NAMES = [f"{spec.name.replace('_', '-')}:" for spec in load_topology().services]


@pytest.fixture
async def in_compose(
    mediator_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """`sandbox.console.main`'s configuration under the compose file's environment; the mediator
    answers at a host name (`localhost`, standing for `interop-layer`), the rest resolve nowhere."""
    for name, value in COMPOSE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DPI_INTEROP_LAYER_URL", f"http://localhost:{urlsplit(mediator_url).port}")
    monkeypatch.setenv("DPI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DPI_PORT_OFFSET", raising=False)
    app = create_app(config_from_env(), live=False)
    async with serve_in_process(app) as client:
        yield app, client


async def test_the_people_page_shows_published_loopback_urls_not_container_names(in_compose):
    _, client = in_compose
    html = (await client.get("/people")).text
    assert "curl -s -u admin:district http://127.0.0.1:8005/api/me" in html
    assert "http://127.0.0.1:8002/r1/DPI/GOV/CRVS/registries/fhir/Location?_count=2" in html
    for spec in load_topology().services:
        assert f'<a href="http://127.0.0.1:{spec.port}/docs">API docs</a>' in html
    assert not [name for name in (*CONTAINER_NAMES, "localhost") if name in html]
    # the ID system is reached by its container name, which resolves nowhere here
    assert "The ID system does not answer" in html


async def test_map_details_link_the_host_url_and_read_the_log_by_container_name(in_compose):
    _, client = in_compose
    topology = load_topology()
    node = (await client.get(f"/map/node/{key_of(topology.member_id('registries'))}")).text
    assert '<a href="http://127.0.0.1:8004/docs">API docs</a>' in node
    assert "registries:8004" not in node
    log = (await client.get("/log")).text
    assert re.findall(r'<td><a href="/log/(\d+)">', log) == ["4", "3", "2", "1"]


async def test_a_scenario_run_calls_the_services_by_container_name(in_compose):
    app, client = in_compose
    started = await client.post("/scenarios/sandbox-tour/run")
    assert started.status_code == 303
    run_id = started.headers["location"].rsplit("/", 1)[-1]
    runs = app.state.console.runs
    deadline = time.monotonic() + 30
    while runs.running() is not None:
        assert time.monotonic() < deadline, "the run did not finish"
        await anyio.sleep(0.05)
    trace = json.loads((runs.config.runs_dir / run_id / "trace.json").read_text())
    first = trace["directCalls"][0]
    assert first["url"] == "http://id-registry:8001/healthz" and first["status"] is None
    assert trace["run"]["steps"][0]["failures"][0].startswith("no response: ConnectError")
    page = await client.get(f"/runs/{run_id}")
    assert page.status_code == 200 and 'id="done" data-ok="0"' in page.text
