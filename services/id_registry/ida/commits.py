"""Group commit of the IDA hot path on SQLite: one commit per event-loop turn (PostgreSQL's is
`batches`).

On SQLite every IDA transaction runs on the event loop over one long-lived connection. Requests
that run in the same loop turn execute their statements into one open transaction and wait for a
single commit, scheduled for the next turn; each answers only after that commit, so nothing
acknowledged (audit row, spent OTP, VID transaction, recorded token) can be lost by a process
crash. A commit costs far more than the statements of an authentication, so this is where most
of the throughput comes from. The commit waits one more loop turn than it must, so the requests
read in that turn join it too; the group's inserts (audit rows, token records) are written
together just before it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.id_registry.errors import MosipError

log = logging.getLogger("dpi.id_registry.commits")


class BatchFailed(MosipError):
    """The transaction this request's writes were part of could not be committed."""


def batch_failed() -> BatchFailed:
    """The answer of a request whose batch's commit failed or whose outcome is unknown."""
    return BatchFailed("IDA-MLC-007", status_code=503)


class GroupCommit:
    """Commits `connection` (a DB-API connection) once for every request that wrote in a turn."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._batch: asyncio.Future[None] | None = None
        self._deferred: dict[str, list[Any]] = {}
        self.commits = 0
        self.members = 0

    def defer(self, sql: str, params: Any) -> None:
        """Run `sql` with `params` in the open transaction, just before its commit."""
        self._deferred.setdefault(sql, []).append(params)

    async def commit(self) -> None:
        """Join the current batch and return once it is committed (or raise 503)."""
        batch = self._batch
        if batch is None:
            loop = asyncio.get_running_loop()
            batch = self._batch = loop.create_future()
            loop.call_soon(loop.call_soon, self._flush, batch)
        self.members += 1
        try:
            # Shielded: a cancelled request must not cancel the commit its neighbours wait for.
            await asyncio.shield(batch)
        except BatchFailed:
            raise batch_failed() from None

    def abort(self) -> None:
        """A request failed half-way: undo the whole open transaction; its members get 503."""
        self.connection.rollback()
        self._deferred = {}
        batch, self._batch = self._batch, None
        if batch is not None and not batch.done():
            batch.set_exception(batch_failed())

    def _flush(self, batch: asyncio.Future[None]) -> None:
        if batch is not self._batch:
            return  # aborted meanwhile
        self._batch = None
        deferred, self._deferred = self._deferred, {}
        try:
            for sql, rows in deferred.items():
                self.connection.executemany(sql, rows)
            self.connection.commit()
        except Exception:
            log.exception("group commit failed")
            self.connection.rollback()
            batch.set_exception(batch_failed())
            return
        self.commits += 1
        batch.set_result(None)
