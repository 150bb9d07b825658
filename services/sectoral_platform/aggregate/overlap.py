"""The batches of a streamed import written in order while the next one is parsed and checked.

On PostgreSQL a batch's lookup, COPY, updates, deletes and totals run on a thread of their own
(psycopg lets go of the GIL while the server works), fed by a queue of one batch; the parsing
thread goes on with the next. Each batch is still its own transaction, begun once the one
before it committed, so it sees that batch's writes. After a failed write no later batch is
written and the failure is raised; the batches handed over before an error in the parsing are
written before that error is raised, as they were when each was written before the next was
read. SQLite writes in-process, so there a batch is written as soon as it is checked."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from services.sectoral_platform.aggregate.summary import ImportSummary, merge

Write = Callable[[], ImportSummary]


class Inline:
    """Each batch written when it is handed over."""

    def __init__(self) -> None:
        self.total: ImportSummary | None = None

    def submit(self, write: Write, offset: int) -> None:
        self.total = merge(self.total, write(), offset)

    def close(self) -> ImportSummary | None:
        return self.total


class Overlapped(Inline):
    """Batches written by a thread of their own, in the order handed over."""

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[tuple[Write, int] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = threading.Thread(
            target=self._loop, name="dataValueSets writer"
        )
        self._thread.start()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # nothing after a failed batch is written
            try:
                self.total = merge(self.total, item[0](), item[1])
            except BaseException as error:  # raised to the caller by `close`
                self._error = error

    def submit(self, write: Write, offset: int) -> None:
        if self._error is not None:
            self.close()
        self._queue.put((write, offset))

    def close(self) -> ImportSummary | None:
        """Once every batch handed over is written: their summary, or the first write's error."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        return self.total
