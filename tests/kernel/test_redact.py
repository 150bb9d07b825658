"""Credentials carried in URL paths (MOSIP IDA) never reach logs or spans."""

import logging

import pytest
from fastapi import APIRouter
from hypothesis import given
from hypothesis import strategies as st

from services.kernel.app import create_service_app
from services.kernel.redact import redact_path
from services.kernel.testing import serve_in_process

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


async def test_access_log_shows_no_key(settings_for, caplog):
    router = APIRouter()

    @router.post("/idauthentication/v1/auth/{licence}/{partner}/{key}")
    async def auth(licence: str, partner: str, key: str) -> dict[str, str]:
        return {"partner": partner}

    app = create_service_app(
        settings=settings_for("id_registry"), routers=[router], configure_logs=False
    )
    caplog.set_level(logging.INFO, logger="dpi.access")
    path = f"/idauthentication/v1/auth/{LICENCE}/moh-hmis/{API_KEY}"
    async with serve_in_process(app) as client:
        assert (await client.post(path)).status_code == 200
    lines = [r for r in caplog.records if r.name == "dpi.access"]
    assert lines and all(
        LICENCE not in r.getMessage() and API_KEY not in r.getMessage() for r in lines
    )
    assert lines[-1].__dict__["path"] == "/idauthentication/v1/auth/***/moh-hmis/***"
    # Exported spans: tests/kernel/test_otel.py::test_exported_spans_show_no_key
