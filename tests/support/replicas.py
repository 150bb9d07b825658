"""Replicas of one service in one test process, on one PostgreSQL database (`SHARED_POSTGRES`)."""

from __future__ import annotations

import time

from fastapi import FastAPI

from services.kernel.runtime import kernel_state


def wait_listening(*apps: FastAPI, within: float = 5.0) -> None:
    """Until each app's cache-invalidation listener is connected (its lifespan started it)."""
    for app in apps:
        listening = kernel_state(app).invalidation.listening
        deadline = time.monotonic() + within
        while not listening.is_set():
            assert time.monotonic() < deadline, "the invalidation listener did not connect"
            time.sleep(0.01)
