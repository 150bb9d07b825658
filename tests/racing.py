"""Two replicas' writes meeting at the commit: each in its own session on one database, both
past their checks before either commits (a barrier in `commit`), as two replicas answering the
same request at the same instant."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

T = TypeVar("T")


def commit_together(engine: Engine, work: Callable[[Session, int], T]) -> list[T]:
    """`work(session, n)` for n = 0 and 1 in two threads; a commit waits (up to 3 s) for the
    other's before it goes ahead."""
    meeting = threading.Barrier(2, timeout=3.0)

    class TogetherSession(Session):
        def commit(self) -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                meeting.wait()
            super().commit()

    def one(n: int) -> T:
        with TogetherSession(engine) as session:
            return work(session, n)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, [0, 1]))
