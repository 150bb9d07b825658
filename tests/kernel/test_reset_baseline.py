"""The reset baseline: a start that seeds an empty database keeps the rows it seeded, so even the
first `POST /admin/reset` restores them instead of running the seed code; a start on rows it did
not seed runs the seed code at its first reset. Both give the freshly seeded state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.consent.main import create_app as consent_app
from services.consent.settings import ConsentSettings
from services.id_registry.main import create_app as id_registry_app
from services.id_registry.settings import IdRegistrySettings
from services.interop_layer.main import create_app as interop_app
from services.interop_layer.settings import InteropSettings
from services.kernel.runtime import kernel_state
from services.kernel.settings import ServiceSettings
from services.kernel.testing import serve_in_process
from services.registries.main import create_app as registries_app
from services.registries.settings import RegistriesSettings
from services.sectoral_platform.main import create_app as sectoral_app
from services.sectoral_platform.settings import SectoralSettings
from tests.conftest import USE_POSTGRES

pytestmark = pytest.mark.anyio
ADMIN = {"X-DPI-Admin-Key": "dpi-admin"}
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Rows = dict[str, list[Any]]


def _id_registry(settings: Any) -> FastAPI:
    return id_registry_app(settings, clock=lambda: NOON, run_drainer=False, configure_logs=False)


# service -> (settings class, extra settings, app factory, what differs between two seeds: the
# columns and JSON keys holding the seeding time or a random id, by name)
SERVICES: dict[
    str, tuple[type[ServiceSettings], dict[str, Any], Callable[[Any], FastAPI], set[str]]
] = {
    "id_registry": (
        IdRegistrySettings,
        {"seed_population": 6, "publish_events": False, "subscribe_civil_events": False},
        _id_registry,
        set(),  # its clock is the test's: two seeds are identical
    ),
    "interop_layer": (InteropSettings, {}, interop_app, {"id", "created_at", "applied_at"}),
    "sectoral_platform": (
        SectoralSettings,
        {},
        sectoral_app,
        {"created", "lastUpdated", "passwordHash", "stamp"},
    ),  # a fresh salt each time; a fresh metadata stamp each write
    "registries": (RegistriesSettings, {}, registries_app, {"last_updated", "modified_at"}),
    "consent": (
        ConsentSettings,
        {},
        consent_app,
        {"id", "created_at", "timestamp", "serialized_hash", "serialized_snapshot"},
    ),
}
# tables a reset leaves as they are: the ID system's and consent's keys, the mediator's log
KEPT = {
    "id_registry": ["ida_key", "oidc_signing_key"],
    "interop_layer": ["im_log_key", "im_log_mark", "im_log_record"],
    "consent": ["consent_signing_key"],
}


def _rows(app: FastAPI, kept: list[str]) -> Rows:
    """Every row of the service's reset tables, in a stable order."""
    database = kernel_state(app).database
    assert database.metadata is not None
    tables = [t for t in database.metadata.sorted_tables if t.name not in kept]
    with database.engine.connect() as connection:
        return {
            t.name: sorted((dict(r._mapping) for r in connection.execute(t.select())), key=repr)
            for t in tables
        }


def _without(value: Any, volatile: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, volatile) for k, v in value.items() if k not in volatile}
    if isinstance(value, list):
        return sorted((_without(v, volatile) for v in value), key=repr)
    return value


def _empty_every_table(app: FastAPI, kept: list[str]) -> None:
    """What a test suite might leave behind at worst: nothing of the seed."""
    database = kernel_state(app).database
    assert database.metadata is not None
    with database.engine.begin() as connection:
        for table in reversed(database.metadata.sorted_tables):
            if table.name not in kept:
                connection.execute(table.delete())


@pytest.mark.parametrize("service", list(SERVICES))
async def test_the_first_reset_restores_what_the_start_seeded(service, settings_for):
    cls, extra, make_app, _ = SERVICES[service]
    app = make_app(settings_for(service, cls, **extra))
    async with serve_in_process(app) as client:
        kept = KEPT.get(service, [])
        seeded = _rows(app, kept)
        assert sum(len(rows) for rows in seeded.values()) > 0
        _empty_every_table(app, kept)

        reset = await client.post("/admin/reset", headers=ADMIN)
        assert reset.status_code == 200, reset.text
        assert (reset.json()["seeded"], reset.json()["baseline"]) == (False, "start")
        assert reset.json()["kept"] == kept
        assert _rows(app, kept) == seeded


@pytest.mark.parametrize("service", list(SERVICES))
async def test_a_start_on_existing_rows_seeds_at_its_first_reset_to_the_same_state(
    service, settings_for
):
    cls, extra, make_app, volatile = SERVICES[service]
    settings = settings_for(service, cls, **extra)
    first = make_app(settings)
    kept = KEPT.get(service, [])
    async with serve_in_process(first):
        at_start = _rows(first, kept)  # everything the start left
    restarted = make_app(settings)  # the same database, which now holds rows
    async with serve_in_process(restarted) as client:
        reset = await client.post("/admin/reset", headers=ADMIN)
        assert reset.status_code == 200, reset.text
        assert (reset.json()["seeded"], reset.json()["baseline"]) == (True, "first reset")
        reseeded = _rows(restarted, kept)
        if USE_POSTGRES:  # its sequences go on after a delete: the seed numbers rows after those
            volatile = volatile | {"id"}
        assert _without(reseeded, volatile) == _without(at_start, volatile)
        assert {n: len(r) for n, r in reseeded.items()} == {n: len(r) for n, r in at_start.items()}

        again = await client.post("/admin/reset", headers=ADMIN)
        assert (again.json()["seeded"], again.json()["baseline"]) == (False, "first reset")
        assert _rows(restarted, kept) == reseeded


async def test_a_start_from_the_seed_cache_restores_at_its_first_reset(tmp_path: Path):
    _, extra, make_app, _ = SERVICES["id_registry"]
    cache: dict[str, Any] = {"seed_cache": str(tmp_path / "cache"), "log_format": "text", **extra}
    fills = make_app(IdRegistrySettings(service="id_registry", data_dir=tmp_path / "a", **cache))
    async with serve_in_process(fills):
        pass
    copied = make_app(IdRegistrySettings(service="id_registry", data_dir=tmp_path / "b", **cache))
    async with serve_in_process(copied) as client:
        assert kernel_state(copied).seeded_from_cache
        kept = KEPT["id_registry"]
        seeded = _rows(copied, kept)
        _empty_every_table(copied, kept)
        reset = await client.post("/admin/reset", headers=ADMIN)
        assert (reset.json()["seeded"], reset.json()["baseline"]) == (False, "start")
        assert _rows(copied, kept) == seeded
