"""Fixtures for the caller-identity tests: a registries server with one personal-data registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.interop_layer.main import create_app as interop_app
from services.interop_layer.settings import InteropSettings
from services.kernel.credentials import MEDIATOR_KEY_HEADER, mediator_key
from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_on_loopback
from services.registries.main import create_app as registries_app
from services.registries.settings import SANDBOX_API_KEY, RegistriesSettings
from tests.conftest import scratch_database

OWNER = "DPI/GOV/CRVS/registries"  # the registries API key's owner (its own subsystem)
KEY = {"Authorization": SANDBOX_API_KEY}
AS_OWNER = {**KEY, "Information-Mediator-Client": OWNER}
EDUCATION = "DPI/GOV/MOE/emis"
REGISTRY = "/data/callers/1.0"
PERSON = "P1"

# Every identity header a caller could forge, with a forged value.
FORGED = {
    "X-Road-Client": EDUCATION,
    "Information-Mediator-Client": EDUCATION,
    "X-GovStack-Client": EDUCATION,
    "X-Road-UserId": "XD Forged Reader",
    "X-DPI-Purpose": "forged-purpose",
    "X-Road-Issue": "forged-issue",
    "X-DPI-Subject": "forged-subject-token",
}

# Every registries operation that takes the caller's identity: (method, path, JSON body).
OPERATIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "list": ("GET", REGISTRY, None),
    "read": ("POST", f"{REGISTRY}/read", {"query": {"content": {"id": PERSON}}}),
    "exists": ("POST", f"{REGISTRY}/exists", {"query": {"content": {"id": PERSON}}}),
    "readValue": ("GET", f"{REGISTRY}/{PERSON}/readValue/name.json", None),
    "history": ("GET", f"{REGISTRY}/{PERSON}/history", None),
    "create": ("POST", f"{REGISTRY}/create", {"write": {"content": {"id": "P9", "name": "X"}}}),
    "update": (
        "PUT",
        f"{REGISTRY}/update",
        {"query": {"content": {"id": PERSON}}, "write": {"content": {"name": "Forged"}}},
    ),
    "updateOrCreate": (
        "POST",
        f"{REGISTRY}/updateOrCreate",
        {"query": {"content": {"id": PERSON}}, "write": {"content": {"name": "Forged"}}},
    ),
    "delete": ("DELETE", f"{REGISTRY}/{PERSON}/delete", None),
    "usage": ("GET", "/data/myPersonalDataUsage?userId=P1&databaseId=CI", None),
    "databases": ("GET", "/databases", None),
}

SCHEMA: dict[str, Any] = {
    "code": "CI",
    "name": "callers",
    "version": "1.0",
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "primaryKey": True, "personalId": True},
            "name": {"type": "string", "minLength": 1},
        },
    },
}


def mediated(client: str, **statements: str) -> dict[str, str]:
    """The headers of a call the mediator forwarded for `client`."""
    return {**KEY, "X-Road-Client": client, MEDIATOR_KEY_HEADER: mediator_key(), **statements}


def seed_registry(http: httpx.Client) -> None:
    """The `callers/1.0` registry with one person, made by the key's owner."""
    made = http.post("/database/modify", json=SCHEMA, headers=AS_OWNER)
    assert made.status_code == 200, made.text
    body = {"write": {"content": {"id": PERSON, "name": "Original"}}}
    created = http.post(f"{REGISTRY}/create", json=body, headers=AS_OWNER)
    assert created.status_code == 200, created.text


def usage(http: httpx.Client) -> list[dict[str, Any]]:
    """The person's "who read my data" log, as the key's owner sees it (not itself logged)."""
    answer = http.get(
        "/data/myPersonalDataUsage", params={"userId": PERSON, "databaseId": "CI"}, headers=AS_OWNER
    )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def record_state(http: httpx.Client) -> tuple[list[Any], list[Any]]:
    """Every record and P1's versions (read as the owner, which the log records as the owner)."""
    listing = http.get(REGISTRY, params={"pageSize": 100}, headers=AS_OWNER).json()
    history = http.get(f"{REGISTRY}/{PERSON}/history", headers=AS_OWNER).json()
    return listing["results"], [(v["version"], v["actor"]) for v in history["results"]]


def registries_settings(database_url: str, data_dir: Path) -> RegistriesSettings:
    return RegistriesSettings(
        database_url=database_url, data_dir=data_dir, log_format="text", outbox_enabled=False
    )


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One registries server for the module, on SQLite or PostgreSQL (`DPI_TEST_DB`)."""
    folder = tmp_path_factory.mktemp("callers")
    with (
        scratch_database("callers", folder / "registries.db") as url,
        serve_on_loopback(registries_app(registries_settings(url, folder))) as base,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        seed_registry(http)
        yield http


@contextmanager
def behind_mediator(
    settings_for: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A registries server and the real mediator in front of it: (direct, mediator) clients."""
    settings = settings_for("registries", RegistriesSettings, outbox_enabled=False)
    with serve_on_loopback(registries_app(settings)) as registries_url:
        monkeypatch.setenv("DPI_REGISTRIES_URL", registries_url)
        mediator = interop_app(settings_for("interop_layer", InteropSettings))
        with (
            serve_on_loopback(mediator) as mediator_url,
            httpx.Client(base_url=registries_url, timeout=10) as direct,
            httpx.Client(base_url=mediator_url, timeout=10) as via,
        ):
            seed_registry(direct)
            # health's default right reads facilities only; this registry is granted for the test
            right = {
                "client": "DPI/GOV/MOH/hmis",
                "provider": "DPI/GOV/CRVS/registries",
                "serviceCode": "data",
                "endpoints": [{"method": "GET", "path": "/callers/*"}],
            }
            admin = {"X-DPI-Admin-Key": kernel_state(mediator).settings.admin_key}
            granted = via.post("/admin/rights", json=right, headers=admin)
            assert granted.status_code == 201, granted.text
            yield direct, via
