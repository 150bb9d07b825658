"""A credential header with non-ASCII bytes is refused (401), never an unhandled error (500).

`hmac.compare_digest` raises on non-ASCII `str`; every credential check compares bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.kernel.credentials import MEDIATOR_KEY_HEADER
from services.kernel.testing import serve_in_process
from services.registries.main import create_app as registries_app
from services.registries.settings import SANDBOX_API_KEY, RegistriesSettings
from services.sectoral_platform.main import create_app as platform_app
from services.sectoral_platform.settings import SectoralSettings
from tests.sectoral_platform.conftest import QUIET

pytestmark = pytest.mark.anyio
LATIN1 = b"cl\xe9"  # a header byte that decodes to a non-ASCII character


def registries(settings_for: Any) -> FastAPI:
    return registries_app(settings_for("registries", RegistriesSettings, outbox_enabled=False))


def consent(settings_for: Any) -> FastAPI:
    return consent_app(settings_for("consent", ConsentSettings))


def platform(settings_for: Any) -> FastAPI:
    return platform_app(settings_for("sectoral_platform", cls=SectoralSettings, **QUIET))


CASES: dict[str, tuple[Callable[[Any], FastAPI], str, str, dict[str, bytes]]] = {
    "registries api key": (registries, "GET", "/databases", {"Authorization": LATIN1}),
    "registries mediator key": (
        registries,
        "GET",
        "/databases",
        {
            "Authorization": SANDBOX_API_KEY.encode(),
            "X-Road-Client": b"DPI/GOV/MOE/emis",
            MEDIATOR_KEY_HEADER: LATIN1,
        },
    ),
    "kernel admin key": (registries, "GET", "/admin/outbox", {"X-DPI-Admin-Key": LATIN1}),
    "consent organisation key": (
        consent,
        "GET",
        "/config/data-agreements/",
        {"Authorization": b"ApiKey " + LATIN1},
    ),
    "consent decision mediator key": (
        consent,
        "POST",
        "/v1/decisions",
        {MEDIATOR_KEY_HEADER: LATIN1},
    ),
    "kernel mediator key (event push)": (
        platform,
        "POST",
        "/api/civilRegistration/events",
        {MEDIATOR_KEY_HEADER: LATIN1},
    ),
    "immunisation status mediator key": (
        platform,
        "GET",
        "/api/immunisationStatus",
        {MEDIATOR_KEY_HEADER: LATIN1, "X-Road-Client": b"DPI/GOV/MOE/emis"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_non_ascii_credential_is_401(settings_for: Any, case: str) -> None:
    make, method, path, headers = CASES[case]
    async with serve_in_process(make(settings_for)) as http:
        raw = [(name.encode(), value) for name, value in headers.items()]
        answer = await http.request(method, path, headers=raw, json={})
        assert answer.status_code == 401, answer.text
