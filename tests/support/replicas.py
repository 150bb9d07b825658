"""Replicas of one service in one test process, on one PostgreSQL database (`SHARED_POSTGRES`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData

from services.kernel.db import Database
from services.kernel.runtime import kernel_state
from services.kernel.testing import serve_in_process
from tests.conftest import scratch_database


def wait_listening(*apps: FastAPI, within: float = 5.0) -> None:
    """Until each app's cache-invalidation listener is connected (its lifespan started it; on
    SQLite, one process a database, there is none)."""
    for app in apps:
        kernel = kernel_state(app)
        if kernel.database.is_sqlite:
            continue
        listening = kernel.invalidation.listening
        deadline = time.monotonic() + within
        while not listening.is_set():
            assert time.monotonic() < deadline, "the invalidation listener did not connect"
            time.sleep(0.01)


@asynccontextmanager
async def two_replicas(
    first: FastAPI, second: FastAPI, *, auth: httpx.Auth | tuple[str, str] | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Both apps started, their invalidation listeners connected; a client for each (with
    `auth`, when given)."""
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        wait_listening(first, second)
        if auth is not None:
            one.auth = two.auth = auth
        yield one, two


@contextmanager
def shared_database(label: str, metadata: MetaData, tmp_path: Path) -> Iterator[Database]:
    """A scratch database with `metadata`'s tables, for the replicas of one test to share."""
    with scratch_database(label, tmp_path / "unused.db") as url:
        database = Database(url, metadata)
        database.create_all()
        try:
            yield database
        finally:
            database.dispose()
