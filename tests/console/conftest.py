"""A real mediator (on loopback, bodies logged) with a few exchanges, and the console on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sandbox.console.app import create_app
from sandbox.console.config import ConsoleConfig
from services.interop_layer.main import create_app as create_mediator
from services.kernel.testing import serve_in_process, serve_on_loopback
from services.kernel.topology import load_topology
from tests.conftest import scratch_database
from tests.interop_layer.conftest import PEOPLE, interop_settings
from tests.interop_layer.support import (
    EDUCATION,
    HEALTH,
    REGISTRIES,
    FakeDecider,
    FakeExchanger,
    client_headers,
    provider_app,
    serve,
)

STATUS = f"/r1/{HEALTH}/immunisation-status/people/status"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def mediator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A mediator whose log holds: 1 health POST with a person's UIN and name, 2 a refused
    education call, 3 a consent-permitted and 4 a consent-denied education call."""
    data = tmp_path_factory.mktemp("console-mediator")
    with serve(provider_app()) as provider, scratch_database("console", data / "im.db") as db:
        settings = interop_settings(db, data, data, provider, message_log_bodies="full")
        app = create_mediator(
            settings,
            token_exchanger=FakeExchanger(PEOPLE),
            decision_client=FakeDecider({("cons-amina", EDUCATION, "school-enrolment")}),
        )
        with serve_on_loopback(app) as url, httpx.Client(base_url=url) as client:
            sent = client.post(
                f"/r1/{REGISTRIES}/echo/people",
                json={"uin": "4820193746", "name": "Amina"},
                headers=client_headers(HEALTH),
            )
            refused = client.get(
                f"/r1/{REGISTRIES}/echo/private", headers=client_headers(EDUCATION)
            )
            about = {"X-DPI-Subject": "edu-amina"}
            permit = client.get(
                STATUS,
                headers=client_headers(EDUCATION, **about, **{"X-DPI-Purpose": "school-enrolment"}),
            )
            deny = client.get(
                STATUS, headers=client_headers(EDUCATION, **about, **{"X-DPI-Purpose": "marketing"})
            )
            statuses = [r.status_code for r in (sent, refused, permit, deny)]
            assert statuses == [200, 500, 200, 500]
            yield url


def console_app(data_dir: Path, mediator: str) -> FastAPI:
    config = ConsoleConfig(
        topology=load_topology(),
        data_dir=data_dir,
        port_offset=500,
        urls={"interop_layer": mediator},
    )
    return create_app(config, live=False)


@pytest.fixture
async def console(
    mediator_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = console_app(tmp_path, mediator_url)
    async with serve_in_process(app) as client:
        yield app, client
