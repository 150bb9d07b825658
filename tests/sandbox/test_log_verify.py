"""`dpi log verify` proves the mediator's message log from its database, naming a bad record."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from services.interop_layer.main import create_app
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import client_key
from services.kernel.testing import serve_in_process
from tests.sandbox.helpers import dpi

HEALTH = "DPI/GOV/MOH/hmis"


@pytest.mark.anyio
async def test_log_verify_passes_then_names_the_tampered_record(settings_for, tmp_path):
    settings = settings_for("interop_layer", cls=InteropSettings, provider_connect_timeout=0.2)
    headers = {"X-Road-Client": HEALTH, "X-DPI-Client-Key": client_key(HEALTH)}
    async with serve_in_process(create_app(settings)) as client:
        for _ in range(3):  # the registries are not running: each is a logged NetworkError
            response = await client.get(
                "/r1/DPI/GOV/CRVS/registries/fhir/Location", headers=headers
            )
            assert response.headers["x-road-error"] == "Server.ServerProxy.NetworkError"
        records = await client.get(
            "/admin/messagelog/records", headers={"X-DPI-Admin-Key": settings.admin_key}
        )
        assert len(records.json()["records"]) == 3

    url = settings.database()
    verified = dpi("log", "verify", "--database-url", url, data_dir=tmp_path / "data")
    assert verified.returncode == 0, verified.stderr
    assert "3 records" in verified.stdout

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE im_log_record SET status_code = 200 WHERE seq = 2"))
    engine.dispose()
    tampered = dpi("log", "verify", "--database-url", url, data_dir=tmp_path / "data")
    assert tampered.returncode == 1
    assert "FAILED at record 2" in " ".join(tampered.stderr.split())


def test_log_verify_without_a_log_says_so(tmp_path):
    result = dpi("log", "verify", data_dir=tmp_path / "empty")
    assert result.returncode == 2 and "no message log" in result.stderr
