"""Fixtures for the mediator: a provider on loopback, a catalogue pointing at it, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from services.interop_layer.config import InteropSettings
from services.interop_layer.main import create_app
from services.kernel.testing import serve_in_process
from tests.interop_layer.support import (
    EDUCATION,
    HEALTH,
    NIA,
    REGISTRIES,
    FakeDecider,
    FakeExchanger,
    provider_app,
    serve,
)

PEOPLE = {
    "amina": {"moe-emis": "edu-amina", "moh-hmis": "hmis-amina", "dpa-consent": "cons-amina"},
    "ben": {"moe-emis": "edu-ben", "moh-hmis": "hmis-ben", "dpa-consent": "cons-ben"},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[FastAPI, str]]:
    app = provider_app()
    with serve(app) as url:
        yield app, url


def catalogue(url: str) -> dict[str, Any]:
    return {
        "services": [
            {
                "provider": REGISTRIES,
                "serviceCode": "echo",
                "baseUrl": url,
                "pathPrefix": "/echo",
                "openapiPath": "/openapi-doc",
                "serviceType": "OPENAPI",
                "endpoints": [{"method": "*", "path": "/*"}],
            },
            {
                "provider": REGISTRIES,
                "serviceCode": "raw",
                "baseUrl": url,
                "endpoints": [{"method": "*", "path": "/*"}],
                "timeout": 0.5,
            },
            {
                "provider": REGISTRIES,
                "serviceCode": "down",
                "baseUrl": "http://127.0.0.1:9",
                "endpoints": [{"method": "*", "path": "/*"}],
            },
            {
                "provider": HEALTH,
                "serviceCode": "immunisation-status",
                "baseUrl": url,
                "pathPrefix": "/echo",
                "consentRequired": True,
                "dataCategories": ["immunisation-status"],
                "endpoints": [{"method": "GET", "path": "/*"}],
            },
        ],
        "rights": [
            {"client": HEALTH, "provider": REGISTRIES, "serviceCode": "echo"},
            {"client": HEALTH, "provider": REGISTRIES, "serviceCode": "raw"},
            {"client": HEALTH, "provider": REGISTRIES, "serviceCode": "down"},
            {
                "client": EDUCATION,
                "provider": REGISTRIES,
                "serviceCode": "echo",
                "endpoints": [{"method": "GET", "path": "/public/*"}],
            },
            {"client": EDUCATION, "provider": HEALTH, "serviceCode": "immunisation-status"},
            {"client": REGISTRIES, "provider": REGISTRIES, "serviceCode": "pub"},
            {"client": NIA, "provider": REGISTRIES, "serviceCode": "sub"},
            {"client": HEALTH, "provider": REGISTRIES, "serviceCode": "sub"},
            {"client": EDUCATION, "provider": REGISTRIES, "serviceCode": "sub"},
        ],
        "eventTypes": [
            {
                "room": REGISTRIES,
                "eventType": "birth-registered",
                "schema": {"type": "object", "required": ["civilRegistrationId"]},
            },
        ],
    }


@pytest.fixture
def make_settings(settings_for, tmp_path: Path) -> Callable[..., InteropSettings]:
    def make(url: str, **overrides: Any) -> InteropSettings:
        path = tmp_path / "catalogue.yaml"
        path.write_text(yaml.safe_dump(catalogue(url)))
        values: dict[str, Any] = {
            "catalogue_path": path,
            "provider_read_timeout": 5.0,
            "push_backoff_initial": 0.05,
            "push_backoff_max": 0.2,
            "push_poll_interval": 0.05,
            "push_max_attempts": 4,
        }
        values.update(overrides)
        settings: InteropSettings = settings_for("interop_layer", cls=InteropSettings, **values)
        return settings

    return make


@pytest.fixture
def fakes() -> tuple[FakeExchanger, FakeDecider]:
    return FakeExchanger(PEOPLE, inactive={"ben"}), FakeDecider(
        {("cons-amina", EDUCATION, "school-enrolment")}
    )


@pytest.fixture
async def mediator(
    provider, make_settings, fakes
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    exchanger, decider = fakes
    app = create_app(make_settings(provider[1]), token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        yield app, client
