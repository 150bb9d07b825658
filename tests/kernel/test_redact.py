"""Credentials carried in URL paths (MOSIP IDA) never reach logs or spans."""

import logging
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.app import create_service_app
from services.kernel.http import make_client, make_sync_client
from services.kernel.redact import redact_path
from services.kernel.testing import serve_in_process, serve_on_loopback
from tests.kernel.otlp_receiver import CLIENT, collector, wait_for

pytestmark = pytest.mark.anyio

LICENCE = "misp-licence-key-0001"
API_KEY = "moh-hmis-secret-api-key"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            f"/idauthentication/v1/auth/{LICENCE}/moh-hmis/{API_KEY}",
            "/idauthentication/v1/auth/***/moh-hmis/***",
        ),
        (
            f"/r1/DPI/GOV/NIA/id-registry/idauth/idauthentication/v1/kyc/{LICENCE}/moe/{API_KEY}",
            "/r1/DPI/GOV/NIA/id-registry/idauth/idauthentication/v1/kyc/***/moe/***",
        ),
        ("/idauthentication/v1/otp/a/b", "/idauthentication/v1/otp/a/b"),  # too short: no keys
        ("/api/dataValueSets", "/api/dataValueSets"),
    ],
)
def test_ida_keys_are_masked_and_other_paths_kept(path, expected):
    assert redact_path(path) == expected


segment = st.text(st.characters(blacklist_characters="/?", min_codepoint=33), min_size=8)


@given(
    kind=st.sampled_from(["auth", "kyc", "otp"]),
    licence=segment,
    partner=st.text(
        st.characters(blacklist_characters="/?", min_codepoint=33), min_size=1, max_size=4
    ),
    key=segment,
)
def test_no_key_survives(kind, licence, partner, key):
    redacted = redact_path(f"/idauthentication/v1/{kind}/{licence}/{partner}/{key}")
    assert redacted == f"/idauthentication/v1/{kind}/***/{partner}/***"


async def test_access_log_and_exported_spans_show_no_key(settings_for, caplog, monkeypatch):
    received: list[dict[str, Any]] = []
    router = APIRouter()

    @router.post("/idauthentication/v1/auth/{licence}/{partner}/{key}")
    async def auth(licence: str, partner: str, key: str) -> dict[str, str]:
        return {"partner": partner}

    app = create_service_app(
        settings=settings_for("id_registry"), routers=[router], configure_logs=False
    )
    caplog.set_level(logging.INFO, logger="dpi.access")
    path = f"/idauthentication/v1/auth/{LICENCE}/moh-hmis/{API_KEY}"
    with serve_on_loopback(collector(received)) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        async with serve_in_process(app) as client:
            assert (await client.post(path)).status_code == 200
            transport = httpx.ASGITransport(app=app)
            async with make_client("http://id-registry", transport=transport) as caller:
                assert (await caller.post(path)).status_code == 200
            answer = httpx.MockTransport(lambda request: httpx.Response(200))
            with make_sync_client("http://id-registry", transport=answer) as sync_caller:
                assert sync_caller.post(path).status_code == 200
        wait_for(received, 4)
    lines = [r for r in caplog.records if r.name == "dpi.access"]
    assert lines and all(
        LICENCE not in r.getMessage() and API_KEY not in r.getMessage() for r in lines
    )
    assert lines[-1].__dict__["path"] == "/idauthentication/v1/auth/***/moh-hmis/***"
    assert len([s for s in received if s["kind"] == CLIENT]) == 2  # async and sync clients
    for span in received:
        assert API_KEY not in str(span) and LICENCE not in str(span)
