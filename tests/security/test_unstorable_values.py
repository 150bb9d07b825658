"""A value the database refuses (a NUL character in text on PostgreSQL, a number beyond its
column) is bad input: 400 in the service's error shape, and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DataError

from services.kernel.errors import install_error_handlers
from services.kernel.testing import serve_in_process
from tests.conftest import USE_POSTGRES, scratch_database
from tests.security.contracts_services import SERVICES

pytestmark = pytest.mark.anyio


async def test_a_refused_value_is_a_400_in_the_service_shape():
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    def create() -> None:
        raise DataError("INSERT", {}, ValueError("text fields cannot contain NUL (0x00) bytes"))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/things")
    assert response.status_code == 400
    assert response.json()["code"] == "unstorable-value"
    assert "NUL" in response.json()["detail"] and "0x00" not in response.json()["detail"]


@pytest.mark.skipif(not USE_POSTGRES, reason="SQLite stores NUL characters in text")
async def test_nul_in_a_registry_name_is_refused_and_nothing_is_created(tmp_path: Path):
    headers = SERVICES["registries"].credentials
    body: dict[str, Any] = {"code": "NUL", "name": "nulgroup", "version": "1.0"}
    body["group_name"] = "bad\u0000group"
    body["schema"] = {"type": "object", "properties": {"id": {"type": "string"}}}
    with scratch_database("unstorable", tmp_path / "db") as url:
        async with serve_in_process(SERVICES["registries"].build(url, tmp_path)) as client:
            response = await client.post("/database/modify", json=body, headers=headers)
            assert response.status_code == 400, response.text
            assert "detail" in response.json()  # the Digital Registries error shape
            listed = await client.get("/databases", headers=headers)
            assert listed.status_code == 200 and '"NUL"' not in listed.text, listed.text
