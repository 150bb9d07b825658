"""Group commit of decisions: every caller waits for its own entry to be durable."""

from __future__ import annotations

import asyncio
import logging

from services.consent.decisions.store import MAX_BATCH, DecisionRow, DecisionStore
from services.kernel.errors import BadRequest, DomainError

log = logging.getLogger("dpi.consent.decisions")


class DecisionLog:
    """Callers await their entry's commit; entries arriving together share one transaction.

    The first entry of a batch schedules a flush for the end of the current loop round, so
    every request already being handled in that round joins the same commit.
    """

    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        self._pending: list[tuple[DecisionRow, asyncio.Future[None]]] = []
        self._writing = False
        self._thread_write: asyncio.Task[None] | None = None  # referenced so it is not collected

    async def stop(self) -> None:
        while self._writing:  # a batch in a worker thread finishes before the store closes
            await asyncio.sleep(0.01)
        if self._pending:
            batch, self._pending = self._pending, []
            self._settle(batch, self._attempt(batch))
        self.store.close()

    async def record(self, entry: DecisionRow) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((entry, future))
        if len(self._pending) == 1 and not self._writing:
            loop.call_soon(self._flush)
        try:
            await future
        except Exception as exc:
            if _refused_value(exc):  # e.g. a NUL character on PostgreSQL: bad input, not stored
                raise BadRequest(
                    "A value in the request cannot be stored (e.g. a NUL character).",
                    code="unstorable-value",
                ) from exc
            # not stored, so not given: the caller must ask again
            raise DomainError(
                "The decision could not be recorded; try again.",
                code="decision-not-recorded",
                status_code=503,
            ) from exc

    def _flush(self) -> None:
        if self._writing or not self._pending:
            return
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self.store.dialect.is_sqlite:
            # A local commit of a batch is shorter than a round trip through a worker
            # thread, whose wake-ups cost milliseconds on a busy machine.
            self._settle(batch, self._attempt(batch))
            if self._pending:
                asyncio.get_running_loop().call_soon(self._flush)
            return
        self._writing = True
        self._thread_write = asyncio.get_running_loop().create_task(self._write_in_thread(batch))

    async def _write_in_thread(self, batch: list[tuple[DecisionRow, asyncio.Future[None]]]) -> None:
        try:
            errors = await asyncio.to_thread(self._attempt, batch)
            self._settle(batch, errors)
        finally:
            self._writing = False
            if self._pending:
                self._flush()

    def _attempt(
        self, batch: list[tuple[DecisionRow, asyncio.Future[None]]]
    ) -> list[Exception | None]:
        """Each entry's outcome: a value the database refuses fails its own entry, not the batch."""
        try:
            self.store.write([entry for entry, _ in batch])
        except Exception as exc:
            if _refused_value(exc):
                if len(batch) == 1:
                    return [exc]
                return [self._attempt([item])[0] for item in batch]
            log.exception("could not store %d decisions", len(batch))  # the callers answer 5xx
            return [exc] * len(batch)
        return [None] * len(batch)

    @staticmethod
    def _settle(
        batch: list[tuple[DecisionRow, asyncio.Future[None]]], errors: list[Exception | None]
    ) -> None:
        for (_, future), error in zip(batch, errors, strict=True):
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


def _refused_value(exc: BaseException) -> bool:
    """A DB-API `DataError` (psycopg, sqlite3): the database refused a value, not the write."""
    return any(cls.__name__ == "DataError" for cls in type(exc).__mro__)
