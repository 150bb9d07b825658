"""The single writer of this replica's chain: batches records, links, signs and commits them.

An exchange hands its record over and waits for the commit of the batch that holds it before
its answer leaves (`batches.py`), so no answered exchange lacks its record, even after kill -9.
Reads of the log flush first. A batch that cannot be committed is refused (`outage.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from anyio import to_thread
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from services.interop_layer.messagelog.batches import BatchGathering, Waiters
from services.interop_layer.messagelog.chain import (
    GENESIS,
    LEGACY_REPLICA,
    key_id_of,
    public_pem,
)
from services.interop_layer.messagelog.chains import ChainClaim, ChainStart
from services.interop_layer.messagelog.insert import RecordInsert
from services.interop_layer.messagelog.link import link_signed
from services.interop_layer.messagelog.migrate import migrate
from services.interop_layer.messagelog.models import PurgeReport
from services.interop_layer.messagelog.opening import open_chain
from services.interop_layer.messagelog.outage import LogUnavailable, reopen, reopened
from services.interop_layer.messagelog.store import BatchStore
from services.interop_layer.messagelog.trust import TrustExport
from services.kernel.db import Database

if TYPE_CHECKING:
    from services.interop_layer.messagelog.pgwrite import PgBatches

log = logging.getLogger("dpi.interop.messagelog")
T = TypeVar("T")


class LogWriter(BatchGathering):
    def __init__(
        self,
        database: Database,
        key: Ed25519PrivateKey,
        *,
        group_delay: float = 0.0,
        commit_delay: float = 0.0,
        trust: Path | None = None,
        anchor_interval: float = 1.0,
        signature_interval: float = 0.0,
        replica: str = LEGACY_REPLICA,
    ) -> None:
        super().__init__(group_delay=group_delay, commit_delay=commit_delay)
        self.database = database
        self.replica = replica
        self.signature_interval = signature_interval
        self._signed_at = -math.inf  # when a record was last signed
        self.key = key
        self.pem = public_pem(key)
        self.key_id = key_id_of(self.pem)
        self.trust = TrustExport(
            trust,
            key=key,
            key_id=self.key_id,
            pem=self.pem,
            interval=anchor_interval,
            replica=replica,
        )
        self._lock = threading.Lock()
        self._flushing = asyncio.Lock()
        self.available = True  # False from a failed write until the chain is reopened
        self._task: asyncio.Task[None] | None = None
        self.head_seq = 0  # the position of this replica's last record in its chain
        self.head_hash = GENESIS
        self.last_seq = 0  # SQLite: the last sequence number taken (one process writes)
        self._claim: ChainClaim | None = None
        self._head_record_seq: int | None = None  # the global number of the head record
        self._insert = RecordInsert(database.engine)
        self._store = BatchStore(database, self._lock)
        self._pg: PgBatches | None = None
        if not database.is_sqlite:  # psycopg: loaded on PostgreSQL only
            from services.interop_layer.messagelog.pgwrite import PgBatches

            self._pg = PgBatches(database)

    def open(self) -> None:
        """Register and pin the public key, read where the chain ends, export a head anchor."""
        migrate(self.database)
        self._claim = ChainClaim(self.database, self.replica)
        try:
            start = open_chain(
                self.database,
                key_id=self.key_id,
                pem=self.pem,
                replica=self.replica,
                trust=self.trust,
            )
            self._restart_at(start)
        except BaseException:
            self._claim.release()
            raise

    def _restart_at(self, start: ChainStart) -> None:
        self.head_seq, self.head_hash = start.position, start.record_hash
        self.last_seq, self._head_record_seq = start.last_seq, start.record_seq

    def unready(self) -> str | None:
        """Why the mediator is not ready (for /readyz), or None."""
        return None if self.available else "the message log cannot be written yet"

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-log-writer")

    async def stop(self) -> None:
        """Let the writer finish its batch (a cancelled thread would write on unseen), flush."""
        if self._task is not None:
            self._stopping = True
            self._urgent.set()
            self._wake.set()
            await self._task
            self._task = None
        try:
            await self.flush()
        except Exception:  # the database is unavailable: what was queued is lost with us
            log.exception("message log: the last records could not be written at shutdown")
        if self._pg is not None:
            await self._pg.close()
        await to_thread.run_sync(
            self.trust.export, self.head_seq, self.head_hash, self._head_record_seq
        )
        await to_thread.run_sync(self.close)

    def close(self) -> None:
        """Close the store and free the chain's claim (after the last write)."""
        self._store.shutdown()
        if self._claim is not None:
            self._claim.release()
            self._claim = None

    async def commit(self, fields: dict[str, Any]) -> None:
        """Hand a record over and return once the batch holding it is committed; raise
        `LogUnavailable` when it cannot be (then it is never written)."""
        if not self.available:
            raise LogUnavailable
        waiter = self._awaited(fields)  # refused past `wait_seconds` (`batches.Waiters`)
        if self._task is None:  # no writer task (not started, or stopped): write it now
            with contextlib.suppress(Exception):  # a failed write fails the waiters
                await self.flush()
        await waiter

    async def flush(self) -> None:
        """Write everything submitted so far (waiting for a batch already on its way)."""
        async with self._flushing:
            if not self._pending:
                return
            batch, waiters = self._take()
            written, error = self._written_here(batch)
            if not written:
                # A batch under way runs to its end even when its flush is cancelled: it must
                # never be both committed and given back for another write.
                done = asyncio.ensure_future(self._write(batch))
                try:
                    await asyncio.shield(done)
                except asyncio.CancelledError:
                    await asyncio.wait([done])
                    self._settle(done.exception(), batch, waiters)
                    raise
                except Exception:
                    pass
                error = done.exception()
            self._settle(error, batch, waiters)
            if error is not None:
                raise error

    def _settle(
        self, error: BaseException | None, batch: list[dict[str, Any]], waiters: Waiters
    ) -> None:
        """Answer the batch's exchanges; a failed write refuses them (the chain is reopened)."""
        if error is None:
            self._committed(waiters)
        else:
            self.available = False
            self._wake.set()  # the writer's loop reopens the chain
            self._refuse(batch, waiters)

    async def run_locked(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a thread while no batch is being written (purge, verification)."""

        def locked() -> T:
            with self._lock, self.database.session() as session:
                return work(session)

        return await to_thread.run_sync(locked)

    async def _run(self) -> None:
        while not self._stopping:
            await self._next_batch()
            if not self.available:
                await self._reopen()
            try:
                await self.flush()
            except Exception as exc:
                log.warning("message log write failed, exchanges refused until it works: %s", exc)
                self._wake.set()

    async def _reopen(self) -> None:
        """Until the database answers: retry reopening the chain (see `outage`)."""
        start = await reopened(self._reopen_locked, stopping=lambda: self._stopping)
        if start is not None:
            self._restart_at(start)
            self.available = True
            log.warning("message log available again; chain head at %d", self.head_seq)

    def _reopen_locked(self) -> ChainStart:
        with self._lock:
            return reopen(self.database, self._claim, self.replica)

    async def _write(self, batch: list[dict[str, Any]]) -> None:
        """Write one batch now, under the writer's lock (held by purge and verification)."""
        if self._pg is None:
            written, error = self._written_here(batch)
            if error is not None:
                raise error
            if not written:
                await to_thread.run_sync(self._write_locked_sqlite, batch)
            return
        if not self._lock.acquire(blocking=False):
            await to_thread.run_sync(self._lock.acquire)
        try:
            numbers = await self._pg.reserve(len(batch))
            head = self._link(batch, numbers)
            coming = len(self._pending) + self.expected  # records already due for a next batch
            await self._pg.write(batch, head, coming=coming)
            self._advance(batch, head)
        finally:
            self._lock.release()

    def _written_here(self, batch: list[dict[str, Any]]) -> tuple[bool, BaseException | None]:
        """SQLite with no reader holding the log: the batch written on the spot, on the event
        loop (a local commit costs less than two thread switches, which a busy machine delays
        by milliseconds; and with no await, there is nothing to cancel): (True, its error or
        None). Otherwise (False, None): the batch is for `_write`."""
        if self._pg is not None or not self._lock.acquire(blocking=False):
            return False, None
        try:
            self._write_sqlite(batch)
        except Exception as error:
            return True, error
        finally:
            self._lock.release()
        return True, None

    def _write_locked_sqlite(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self._write_sqlite(batch)

    def _write_sqlite(self, batch: list[dict[str, Any]]) -> None:
        numbers = range(self.last_seq + 1, self.last_seq + 1 + len(batch))
        head = self._link(batch, numbers)
        self._store.write(self._insert, batch, head)
        self.last_seq = batch[-1]["seq"]
        self._advance(batch, head)

    def _link(self, batch: list[dict[str, Any]], numbers: Iterable[int]) -> dict[str, Any]:
        """Link the batch after the chain's head: the head mark's values. Its last record is
        signed when the last signature is older than the signature interval: every batch at
        rest, a few a second under load."""
        now = time.monotonic()
        due = now - self._signed_at >= self.signature_interval
        if due:
            self._signed_at = now
        return link_signed(
            batch,
            numbers,
            position=self.head_seq,
            prev=self.head_hash,
            key=self.key,
            key_id=self.key_id,
            replica=self.replica,
            sign_last=due,
        )

    def _advance(self, batch: list[dict[str, Any]], head: dict[str, Any]) -> None:
        """The batch is committed: the chain's head moves to it, an anchor is exported when due."""
        position, prev = head["seq"], head["record_hash"]
        self.head_seq, self.head_hash = position, prev
        self._head_record_seq = seq = batch[-1]["seq"]
        if self.trust.due():
            try:  # the batch is committed: a failed export must not write it again
                self.trust.export(position, prev, seq)
            except OSError:
                log.exception("could not export the message log's head anchor")

    async def purge(self, *, before: datetime) -> PurgeReport:
        """Delete every chain's oldest records up to the first one started at or after `before`.

        The hash of a chain's last purged record becomes its signed anchor, so the remainder still
        verifies from there (X-Road archives carry the last digest forward the same way). Chains
        of replicas gone for good are purged too; a chain's head mark is locked meanwhile.
        """
        await self.flush()
        return await self.run_locked(
            lambda session: self._store.purge(
                session, before=before, replica=self.replica, key=self.key, key_id=self.key_id
            )
        )
