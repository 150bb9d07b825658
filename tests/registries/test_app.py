"""The service starts, answers its probes, and survives a database that is down at start."""

from __future__ import annotations

import httpx
import pytest

from services.kernel.testing import serve_in_process
from services.registries.main import create_app
from services.registries.settings import RegistriesSettings

pytestmark = pytest.mark.anyio


@pytest.fixture
def client(shared_client: httpx.AsyncClient) -> httpx.AsyncClient:
    return shared_client


async def test_probes_and_info(client):
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "registries"}
    assert (await client.get("/readyz")).status_code == 200
    info = (await client.get("/info")).json()
    assert info["memberId"] == "DPI/GOV/CRVS/registries"


async def test_starts_while_the_database_is_down(tmp_path):
    settings = RegistriesSettings(
        database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        data_dir=tmp_path,
        log_format="text",
        outbox_enabled=False,
    )
    async with serve_in_process(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
