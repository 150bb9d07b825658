"""Fixtures for the mediator: a provider on loopback, a catalogue pointing at it, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import text

from services.interop_layer.base import Base
from services.interop_layer.main import create_app
from services.interop_layer.messagelog.models import RECORD_SEQUENCE
from services.interop_layer.settings import InteropSettings
from services.kernel.db import Database
from services.kernel.testing import serve_in_process
from tests.conftest import scratch_database
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
                "openapiPath": "/openapi-doc",
                "consentRequired": True,
                "dataCategories": ["immunisation-status"],
                "endpoints": [{"method": "GET", "path": "/people/status"}],
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


def empty_database(module_database: str) -> str:
    """The module's database, emptied: cheaper than a new one (PostgreSQL creation is slow)."""
    database = Database(module_database, Base.metadata)
    database.create_all()
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        if not database.is_sqlite:  # the log's numbers start at 1 again, as in a new database
            conn.execute(text(f"ALTER SEQUENCE {RECORD_SEQUENCE.name} RESTART"))
    database.dispose()
    return module_database


@pytest.fixture
def make_settings(module_database: str, tmp_path: Path) -> Callable[..., InteropSettings]:
    """Settings on an empty database (a module using this must not also use shared_mediator)."""
    url_of_database = empty_database(module_database)

    def make(url: str, **overrides: Any) -> InteropSettings:
        values = {**FAST_PUSH, **overrides}
        return interop_settings(url_of_database, tmp_path / "data", tmp_path, url, **values)

    return make


FAST_PUSH: dict[str, Any] = {
    "push_backoff_initial": 0.05,
    "push_backoff_max": 0.2,
    "push_poll_interval": 0.05,
    "push_max_attempts": 4,
}


def interop_settings(
    database_url: str, data_dir: Path, catalogue_dir: Path, provider_url: str, **overrides: Any
) -> InteropSettings:
    """A mediator's test settings, its catalogue (in `catalogue_dir`) naming the provider."""
    path = catalogue_dir / "catalogue.yaml"
    path.write_text(yaml.safe_dump(catalogue(provider_url)))
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "log_format": "text",
        "catalogue_path": path,
        "declared_subscriptions": False,  # tests subscribe for themselves
        "provider_read_timeout": 5.0,
    }
    return InteropSettings(**{**values, **overrides})


@pytest.fixture
def fakes() -> tuple[FakeExchanger, FakeDecider]:
    return FakeExchanger(PEOPLE, inactive={"ben"}), FakeDecider(
        {("cons-amina", EDUCATION, "school-enrolment")}
    )


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def module_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for a whole module (creating PostgreSQL databases is the slow part)."""
    sqlite_file = tmp_path_factory.mktemp("interop") / "interop_layer.db"
    with scratch_database("interop", sqlite_file) as url:
        yield url


@pytest.fixture(scope="module")
def shared_fakes() -> tuple[FakeExchanger, FakeDecider]:
    return FakeExchanger(PEOPLE, inactive={"ben"}), FakeDecider(
        {("cons-amina", EDUCATION, "school-enrolment")}
    )


@pytest.fixture(scope="module")
async def shared_mediator(
    provider, module_database, shared_fakes, tmp_path_factory
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A mediator shared by the tests of a module that do not need a pristine log."""
    exchanger, decider = shared_fakes
    data = tmp_path_factory.mktemp("interop-data")
    settings = interop_settings(module_database, data, data, provider[1])
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        yield app, client


@pytest.fixture
async def mediator(
    provider, make_settings, fakes
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    exchanger, decider = fakes
    app = create_app(make_settings(provider[1]), token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        yield app, client
