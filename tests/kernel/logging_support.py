"""An autouse fixture for tests that call configure_logging, which rewires global loggers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging rewires global loggers: put them back for the other tests.

    A uvicorn started by an earlier test in this process leaves its loggers at its own level,
    so they start at NOTSET here and the root level set by configure_logging governs.
    """
    saved = [
        (lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for lg in map(logging.getLogger, LOGGERS)
    ]
    for name in LOGGERS[1:4]:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled
