"""Replicas of one service in one test process, on one PostgreSQL database (`SHARED_POSTGRES`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import MetaData

from services.kernel.db import Database
from services.kernel.runtime import kernel_state
from tests.conftest import scratch_database


def wait_listening(*apps: FastAPI, within: float = 5.0) -> None:
    """Until each app's cache-invalidation listener is connected (its lifespan started it)."""
    for app in apps:
        listening = kernel_state(app).invalidation.listening
        deadline = time.monotonic() + within
        while not listening.is_set():
            assert time.monotonic() < deadline, "the invalidation listener did not connect"
            time.sleep(0.01)


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
