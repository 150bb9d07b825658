"""Where the writer commits its batches: on SQLite one connection of its own, checkpointed aside.

SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages: every thirty
or so batches one commit copied the WAL into the database and synced both files, and since
batches are committed on the event loop, every exchange waited (milliseconds, up to 20 ms on a
busy disk). The writer's connection therefore never checkpoints; a thread does it after every
`CHECKPOINT_BATCHES` commits, concurrently (a passive checkpoint takes no write lock). Should the
WAL keep growing because batches always land while it runs, the next checkpoint holds the
writer's lock, so the WAL restarts. A commit is as durable as before: its WAL pages are written
(`synchronous=NORMAL`) before the answer leaves; the checkpoint only moves them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlmodel import Session

from services.interop_layer.messagelog.chain import mark_message, sign
from services.interop_layer.messagelog.chains import purge_chains
from services.interop_layer.messagelog.insert import Prepared
from services.interop_layer.messagelog.models import LogMark, PurgeReport
from services.kernel.db import Database
from services.kernel.time import utcnow

log = logging.getLogger("dpi.interop.messagelog")
CHECKPOINT_BATCHES = 32
WAL_LIMIT = 4096  # pages (16 MB): past this the next checkpoint waits for the writer's lock
_MARKS: Table = LogMark.__table__  # type: ignore[attr-defined]
_MARK_FIELDS = ("seq", "record_hash", "key_id", "signature", "updated_at")
_UPDATE_MARK = (
    update(_MARKS)
    .where(_MARKS.c.name == bindparam("mark_name"))
    .values({name: bindparam(name) for name in _MARK_FIELDS})
)


def mark_values(
    *, name: str, seq: int, digest: str, key: Ed25519PrivateKey, key_id: str
) -> dict[str, Any]:
    """The row of the signed mark `name` at record `seq` with hash `digest`."""
    return {
        "mark_name": name,
        "name": name,
        "seq": seq,
        "record_hash": digest,
        "key_id": key_id,
        "signature": sign(key, mark_message(name, seq, digest)),
        "updated_at": utcnow(),
    }


class BatchStore:
    """The records and the head mark of a batch, with their commit (SQLite; PostgreSQL's are
    awaited on the event loop, `pgwrite`); purge and the marks on both."""

    def __init__(self, database: Database, writer_lock: threading.Lock) -> None:
        self.database = database
        self._writer_lock = writer_lock
        self._connection: Connection | None = None
        self._update_mark = Prepared(database.engine, _MARKS, _UPDATE_MARK)
        self._insert_mark = Prepared(database.engine, _MARKS, insert(_MARKS))
        self._since = 0
        self._wanted = threading.Event()  # set: a checkpoint is asked for or under way
        self._thread: threading.Thread | None = None
        self._closing = False
        self._overdue = False

    def write(self, insert: Prepared, batch: list[dict[str, Any]], head: dict[str, Any]) -> None:
        """SQLite: insert the batch and move the `head` mark (values of `mark_values`) in one
        transaction, committed on return (called under the writer's lock)."""
        # SQLite: straight on the driver's connection. Core's statement and transaction
        # handling cost more per batch than the commit itself.
        driver = self._driver()
        try:
            row = insert.row
            if len(batch) == 1:
                driver.execute(insert.sql, row(batch[0]))
            else:
                driver.executemany(insert.sql, [row(fields) for fields in batch])
            if not driver.execute(self._update_mark.sql, self._update_mark.row(head)).rowcount:
                driver.execute(self._insert_mark.sql, self._insert_mark.row(head))
            driver.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                driver.rollback()
            self.close()  # a fresh connection for the retry
            raise
        self._since += 1
        if self._since >= CHECKPOINT_BATCHES and not self._wanted.is_set():
            self._since = 0
            self._wanted.set()  # never waits: starting a thread each time did, on a busy machine
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._checkpoints, name="message-log-checkpoint", daemon=True
                )
                self._thread.start()

    def _driver(self) -> Any:
        """The writer's own SQLite connection (the driver's), never checkpointing on commit."""
        if self._connection is None:
            connection = self.database.engine.connect()
            connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            connection.commit()
            self._connection = connection
        return self._connection.connection.dbapi_connection

    def _checkpoints(self) -> None:
        while not self._closing:
            self._wanted.wait()
            if not self._closing:
                self.checkpoint()
            self._wanted.clear()

    def checkpoint(self) -> None:
        """Copy the WAL into the database (the checkpoint thread)."""
        try:
            overdue, self._overdue = self._overdue, False
            with (
                self._writer_lock if overdue else nullcontext(),
                self.database.engine.connect() as connection,
            ):
                _, pages, copied = connection.exec_driver_sql(
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).one()
            self._overdue = pages > WAL_LIMIT and copied < pages
        except Exception:
            log.exception("message log checkpoint failed (the WAL keeps the records)")

    def write_mark(
        self,
        connection: Connection,
        *,
        name: str,
        seq: int,
        digest: str,
        key: Ed25519PrivateKey,
        key_id: str,
    ) -> None:
        """Set the signed mark `name` (`head`, `anchor`) to record `seq` with hash `digest`."""
        self._set(
            connection, mark_values(name=name, seq=seq, digest=digest, key=key, key_id=key_id)
        )

    def purge(
        self,
        session: Session,
        *,
        before: datetime,
        replica: str,
        key: Ed25519PrivateKey,
        key_id: str,
    ) -> PurgeReport:
        """Purge every chain before `before` (see `purge_chains`), under the writer's lock."""
        return purge_chains(
            session,
            before=before,
            replica=replica,
            set_mark=lambda name, seq, digest: self.write_mark(
                session.connection(), name=name, seq=seq, digest=digest, key=key, key_id=key_id
            ),
            lock=not self.database.is_sqlite,
            counted=self.database.is_sqlite,
        )

    def _set(self, connection: Connection, values: dict[str, Any]) -> None:
        if not self._update_mark.execute(connection, [values]).rowcount:
            self._insert_mark.execute(connection, [values])

    def shutdown(self) -> None:
        """Wait for a checkpoint under way, close the connection (the writer has stopped)."""
        if self._thread is not None:
            self._closing = True
            self._wanted.set()
            self._thread.join()
            self._thread = None
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
