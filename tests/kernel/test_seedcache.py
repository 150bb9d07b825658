"""The seed cache: a first start copies in the database a first start seeded with the same
inputs; any change of those inputs seeds afresh; later starts and PostgreSQL never touch it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from services.id_registry.base import Base
from services.id_registry.main import create_app
from services.id_registry.settings import IdRegistrySettings
from services.kernel.runtime import kernel_state
from services.kernel.seedcache import seed_cache_for, seed_key

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path, data: str, **overrides: Any) -> IdRegistrySettings:
    """Always SQLite: the cache holds SQLite files (see the PostgreSQL test below)."""
    values: dict[str, Any] = {
        "service": "id_registry",
        "data_dir": tmp_path / data,
        "seed_cache": str(tmp_path / "cache"),
        "log_format": "text",
        "seed_population": 4,
    }
    return IdRegistrySettings(**{**values, **overrides})


def _clock(day: int) -> Any:
    return lambda: datetime(2026, 3, day, 9, 0, tzinfo=UTC)


async def _start(settings: IdRegistrySettings, day: int) -> tuple[bool, bool]:
    """Run the lifespan once; whether the database came from the cache / will fill it."""
    app: FastAPI = create_app(settings, clock=_clock(day), run_drainer=False, configure_logs=False)
    async with app.router.lifespan_context(app):
        kernel = kernel_state(app)
        return kernel.seeded_from_cache, kernel.seed_cache is not None


def _created(settings: IdRegistrySettings) -> list[tuple[str, str]]:
    path = settings.data_dir / "id_registry.db"
    with sqlite3.connect(path) as db:
        return db.execute("SELECT uin, created_at FROM identity ORDER BY uin").fetchall()


def _cached(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("id_registry-*.db"))


async def test_a_first_start_copies_what_the_same_inputs_seeded(tmp_path):
    first = _settings(tmp_path, "a")
    assert await _start(first, day=1) == (False, True)
    seeded = _created(first)
    assert len(seeded) == 4 and {at for _, at in seeded} == {"2026-03-01 09:00:00.000000"}
    assert len(_cached(tmp_path)) == 1

    second = _settings(tmp_path, "b")
    assert await _start(second, day=2) == (True, False)
    assert _created(second) == seeded  # day 1's rows: copied, not seeded on day 2


async def test_changed_seed_inputs_seed_afresh_and_replace_the_cache(tmp_path):
    await _start(_settings(tmp_path, "a"), day=1)
    before = _cached(tmp_path)

    more = _settings(tmp_path, "b", seed_population=6)
    assert await _start(more, day=2) == (False, True)
    assert len(_created(more)) == 6
    assert {at for _, at in _created(more)} == {"2026-03-02 09:00:00.000000"}
    after = _cached(tmp_path)
    assert len(after) == 1 and after != before

    other_secret = _settings(tmp_path, "c", seed_population=6, sandbox_secret="another")
    assert await _start(other_secret, day=3) == (False, True)
    assert seed_key(other_secret, Base.metadata) != seed_key(more, Base.metadata)
    assert seed_key(more, Base.metadata) == seed_key(
        _settings(tmp_path, "elsewhere", seed_population=6, log_level="DEBUG"), Base.metadata
    )


async def test_a_later_start_neither_copies_nor_fills_the_cache(tmp_path):
    settings = _settings(tmp_path, "a")
    await _start(settings, day=1)
    cached = _cached(tmp_path)[0]
    cache_bytes = cached.read_bytes()
    with sqlite3.connect(settings.data_dir / "id_registry.db") as db:
        db.execute("DELETE FROM identity WHERE uin = (SELECT MIN(uin) FROM identity)")
    assert await _start(settings, day=2) == (False, False)
    assert len(_created(settings)) == 3  # an existing registry is not seeded again
    assert cached.read_bytes() == cache_bytes


def test_no_cache_on_postgresql_or_when_switched_off(tmp_path):
    on_postgres = _settings(tmp_path, "a", database_url="postgresql+psycopg://x@127.0.0.1/db")
    assert seed_cache_for(on_postgres, Base.metadata) is None
    switched_off = _settings(tmp_path, "a", seed_cache="")
    assert seed_cache_for(switched_off, Base.metadata) is None
