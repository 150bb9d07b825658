"""Waiting in tests for what happens elsewhere (another task, thread, process or replica): ask
again with a deadline, never a fixed sleep."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

import anyio

PAUSE = 0.01  # between two questions


async def until(check: Callable[[], Any], what: str, *, within: float = 30.0) -> Any:
    """Ask `check` (a plain or an async callable) again until it answers something truthy, and
    return that answer; fail naming `what` once `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        answer = check()
        if inspect.isawaitable(answer):
            answer = await answer
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await anyio.sleep(PAUSE)


def eventually(condition: Callable[[], Any], what: str, *, within: float) -> float:
    """Block until `condition()` holds; the seconds it took. Fails naming `what` past
    `within` seconds."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > within:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(PAUSE)
    return time.monotonic() - began
