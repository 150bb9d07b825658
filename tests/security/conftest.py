"""Processes a security test starts are stopped after it, whatever happened."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from bench.common import stop


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            stop(process)
