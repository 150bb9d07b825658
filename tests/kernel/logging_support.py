"""An autouse fixture for tests that call configure_logging, which rewires global loggers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging rewires global loggers: put them back for the other tests."""
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for lg in map(logging.getLogger, LOGGERS)
    ]
    yield
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled
