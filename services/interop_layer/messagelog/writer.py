"""The single writer of the chain: batches records, links them, signs each batch (in a thread).

Exchanges hand their record over and answer at once; a record is durable within one flush
(group commit, milliseconds). Reads of the log flush first, so they always see every exchange
that has been answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from operator import itemgetter
from typing import Any, TypeVar

from anyio import to_thread
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, insert, update
from sqlmodel import Session, col, select

from services.interop_layer.api_model import utcnow
from services.interop_layer.messagelog.capture import derive_bodies
from services.interop_layer.messagelog.chain import (
    GENESIS,
    key_id_of,
    mark_message,
    public_pem,
    record_digest,
    sign,
)
from services.interop_layer.messagelog.models import LogKey, LogMark, LogRecord, PurgeReport
from services.kernel.db import Database

log = logging.getLogger("dpi.interop.messagelog")
_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]
_MARKS: Table = LogMark.__table__  # type: ignore[attr-defined]
# Built once: constructing an UPDATE per batch cost more than the batch's inserts.
_UPDATE_MARK = update(_MARKS).where(_MARKS.c.name == bindparam("mark_name"))
T = TypeVar("T")


class _RecordInsert:
    """The records' INSERT compiled once for the dialect; values converted by the column types'
    own bind processors. Core's generic per-row parameter handling cost more than hashing."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = _RECORDS.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(dialect.positional)
        self.names = list(compiled.positiontup or ()) if self.positional else list(compiled.params)
        self.values = itemgetter(*self.names)
        self.converted: list[tuple[int, Callable[[Any], Any], Any]] = []
        for column in _RECORDS.columns:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:  # (position, processor, what it makes of None)
                self.converted.append((self.names.index(column.name), processor, processor(None)))

    def execute(self, connection: Connection, batch: list[dict[str, Any]]) -> None:
        values, converted = self.values, self.converted
        rows: list[Any] = []
        for fields in batch:
            row = list(values(fields))
            for position, processor, of_none in converted:
                value = row[position]
                row[position] = of_none if value is None else processor(value)
            rows.append(tuple(row) if self.positional else dict(zip(self.names, row, strict=True)))
        connection.exec_driver_sql(self.sql, rows)


class LogWriter:
    def __init__(
        self, database: Database, key: Ed25519PrivateKey, *, group_delay: float = 0.0
    ) -> None:
        self.database = database
        self.group_delay = group_delay
        self.key = key
        self.pem = public_pem(key)
        self.key_id = key_id_of(self.pem)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.head_seq = 0
        self.head_hash = GENESIS
        self._insert = _RecordInsert(database.engine)

    def open(self) -> None:
        """Register the public key and read where the chain ends."""
        with self.database.session() as session:
            if session.get(LogKey, self.key_id) is None:
                session.add(LogKey(key_id=self.key_id, public_key=self.pem))
                session.commit()
            head = session.get(LogMark, "head") or session.get(LogMark, "anchor")
            if head is not None:
                self.head_seq, self.head_hash = head.seq, head.record_hash

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-log-writer")

    async def stop(self) -> None:
        """Let the writer finish its batch (a cancelled thread would write on unseen), flush."""
        if self._task is not None:
            self._stopping = True
            self._stop.set()
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()

    def submit(self, fields: dict[str, Any]) -> None:
        self._pending.append(fields)
        self._wake.set()

    async def flush(self) -> None:
        """Write everything submitted so far (waiting for a batch already on its way)."""
        async with self._flushing:
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            written = False

            def write() -> None:
                nonlocal written
                self._write(batch)
                written = True

            try:
                await to_thread.run_sync(write)
            except BaseException:  # cancelled before the thread ran, or the write failed
                if not written:
                    self._pending[:0] = batch  # keep order; retried by the next flush
                raise

    async def run_locked(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a thread while no batch is being written (purge, verification)."""

        def locked() -> T:
            with self._lock, self.database.session() as session:
                return work(session)

        return await to_thread.run_sync(locked)

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if self.group_delay > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):  # group commit: one write, many records
                    await asyncio.wait_for(self._stop.wait(), self.group_delay)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("message log write failed; retrying")
                await asyncio.sleep(0.5)
                self._wake.set()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            seq, prev = self.head_seq, self.head_hash
            key, key_id = self.key, self.key_id
            for fields in batch:  # the records are ours: completed in place, no copies
                derive_bodies(fields)
                seq += 1
                fields["seq"], fields["key_id"] = seq, key_id
                digest = record_digest(prev, fields)
                fields["prev_hash"], fields["record_hash"], fields["signature"] = prev, digest, ""
                prev = digest
            # The batch's last record is signed, and through the chain it vouches for the rest
            # (X-Road time-stamps batches the same way): one signature per batch, not per record.
            batch[-1]["signature"] = sign(key, prev.encode())
            with self.database.engine.begin() as connection:
                self._insert.execute(connection, batch)
                self._set_mark(connection, "head", seq, prev)
            self.head_seq, self.head_hash = seq, prev

    def _set_mark(self, connection: Connection, name: str, seq: int, digest: str) -> None:
        values = {
            "seq": seq,
            "record_hash": digest,
            "key_id": self.key_id,
            "signature": sign(self.key, mark_message(name, seq, digest)),
            "updated_at": utcnow(),
        }
        updated = connection.execute(_UPDATE_MARK, {"mark_name": name, **values})
        if not updated.rowcount:
            connection.execute(insert(_MARKS), {"name": name, **values})

    async def purge(self, *, before: Any) -> PurgeReport:
        """Delete the oldest records up to the first one started at or after `before`.

        The hash of the last purged record becomes the signed anchor, so the remainder still
        verifies from there (X-Road archives carry the last digest forward the same way).
        """
        await self.flush()

        def work(session: Session) -> PurgeReport:
            first_kept = session.exec(
                select(func.min(LogRecord.seq)).where(col(LogRecord.started_at) >= before)
            ).one()
            upto = (first_kept - 1) if first_kept is not None else self.head_seq
            last = session.get(LogRecord, upto) if upto > 0 else None
            if last is None:
                remaining = session.exec(select(func.count()).select_from(LogRecord)).one()
                anchor = session.get(LogMark, "anchor")
                return PurgeReport(
                    purged=0, anchor_seq=anchor.seq if anchor else None, remaining=remaining
                )
            result = session.execute(delete(LogRecord).where(col(LogRecord.seq) <= upto))
            self._set_mark(session.connection(), "anchor", upto, last.record_hash)
            session.commit()
            remaining = session.exec(select(func.count()).select_from(LogRecord)).one()
            purged = int(getattr(result, "rowcount", 0) or 0)
            return PurgeReport(purged=purged, anchor_seq=upto, remaining=remaining)

        return await self.run_locked(work)
