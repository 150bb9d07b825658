"""One hash chain per mediator replica (as each X-Road security server keeps its own log): which
chain a record or a mark belongs to, and purging one chain."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, text
from sqlmodel import Session, col, select

from services.interop_layer.messagelog.chain import GENESIS, LEGACY_REPLICA, mark_name
from services.interop_layer.messagelog.models import LogMark, LogRecord, PurgeReport
from services.kernel.db import Database

MARK_KINDS = ("head", "anchor")
SEQ_MARK = "log-seq"  # SQLite: the log's last number before a purge (no chain's, unsigned)


class ChainInUse(RuntimeError):
    """Another mediator process writes this replica's chain (two replicas with one name)."""


class ChainClaim:
    """On PostgreSQL, a session advisory lock on the replica's chain for the writer's lifetime:
    a second process with the same replica name refuses to start instead of forking the chain.
    SQLite holds one process per database anyway."""

    def __init__(self, database: Database, replica: str) -> None:
        digest = hashlib.sha256(f"im_log_chain:{replica}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self.replica = replica
        self.connection: Connection | None = None
        if not database.is_sqlite:
            self._take(database)

    def _take(self, database: Database) -> None:
        connection = database.engine.connect()
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        if not taken.scalar():
            connection.close()
            raise ChainInUse(
                f"the message-log chain of replica {self.replica!r} is being written by another "
                "mediator process: give each replica its own name (DPI_INTEROP_LAYER_REPLICA)"
            )
        connection.commit()
        self.connection = connection

    def ensure(self, database: Database) -> None:
        """Hold the claim again if its connection was lost (the server restarted: the lock went
        with the session); raises `ChainInUse` if another process took it meanwhile."""
        if database.is_sqlite:
            return
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1")).scalar()
                self.connection.commit()
                return
            except Exception:
                self._drop()
        self._take(database)

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self.connection.commit()
            except Exception:  # the connection is gone, and the lock with it
                pass
            finally:
                self._drop()

    def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()  # never back to the pool: its session held the lock
                connection.close()


def chain_of(record: LogRecord) -> tuple[str, int]:
    """The replica whose chain holds `record`, and its position there."""
    if record.replica is None:  # written before chains were per replica
        return LEGACY_REPLICA, record.seq
    return record.replica, record.seq if record.position is None else record.position


def of_mark(name: str) -> tuple[str, str] | None:
    """(kind, replica) of a mark's name, None for a name that is no chain mark."""
    kind, _, replica = name.partition(":")
    if kind not in MARK_KINDS:
        return None
    return kind, replica or LEGACY_REPLICA


def in_chain(replica: str) -> Any:
    """The SQL condition for the records of `replica`'s chain."""
    if replica == LEGACY_REPLICA:
        return or_(col(LogRecord.replica).is_(None), col(LogRecord.replica) == replica)
    return col(LogRecord.replica) == replica


def position_column() -> Any:
    return func.coalesce(col(LogRecord.position), col(LogRecord.seq))


def marks_by_chain(session: Session) -> dict[str, dict[str, LogMark]]:
    """Every chain's marks: replica → kind → mark."""
    chains: dict[str, dict[str, LogMark]] = {}
    for mark in session.exec(select(LogMark)):
        parsed = of_mark(mark.name)
        if parsed is not None:
            chains.setdefault(parsed[1], {})[parsed[0]] = mark
    return chains


def record_at(session: Session, *, replica: str, position: int) -> LogRecord | None:
    """The record at `position` of `replica`'s chain (a scan: purges and old anchors only)."""
    query = select(LogRecord).where(in_chain(replica), position_column() == position)
    return session.exec(query.limit(1)).first()


def purge_chain(
    session: Session,
    *,
    replica: str,
    before: datetime,
    set_mark: Callable[[str, int, str], None],
    lock: bool,
) -> int:
    """Delete `replica`'s oldest records up to the first started at or after `before`; the last
    one deleted becomes the chain's signed anchor. The number deleted."""
    head = session.get(LogMark, mark_name("head", replica), with_for_update=lock)
    if head is None:
        return 0
    first_kept = session.exec(
        select(func.min(position_column())).where(
            in_chain(replica), col(LogRecord.started_at) >= before
        )
    ).one()
    upto = (first_kept - 1) if first_kept is not None else head.seq
    last = record_at(session, replica=replica, position=upto) if upto > 0 else None
    if last is None:
        return 0
    result = session.execute(delete(LogRecord).where(in_chain(replica), position_column() <= upto))
    set_mark(mark_name("anchor", replica), upto, last.record_hash)
    return int(getattr(result, "rowcount", 0) or 0)


def purge_chains(
    session: Session,
    *,
    before: datetime,
    replica: str,
    set_mark: Callable[[str, int, str], None],
    lock: bool,
    counted: bool,
) -> PurgeReport:
    """Purge every chain (those of replicas gone for good too), one transaction per chain;
    `anchor_seq` in the report is `replica`'s. `counted`: the writer numbers the log (SQLite),
    so the last number is kept in a mark."""
    if counted:  # the writer numbers the log itself: never again a number purged here
        top = session.exec(select(func.max(LogRecord.seq))).one()
        if top is not None:
            session.merge(LogMark(name=SEQ_MARK, seq=top, record_hash="", key_id="", signature=""))
    purged = 0
    for name in sorted(marks_by_chain(session)):
        purged += purge_chain(session, replica=name, before=before, set_mark=set_mark, lock=lock)
        session.commit()
    remaining = session.exec(select(func.count()).select_from(LogRecord)).one()
    anchor = session.get(LogMark, mark_name("anchor", replica))
    return PurgeReport(
        purged=purged, anchor_seq=anchor.seq if anchor else None, remaining=remaining
    )


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where a replica's chain ends when its writer opens; on SQLite also the log's last `seq`."""

    position: int = 0
    record_hash: str = GENESIS
    last_seq: int = 0
    record_seq: int | None = None  # the head record's `seq`, when it was found at once


def chain_start(session: Session, *, replica: str, count: bool) -> ChainStart:
    """Read the chain's head (or, all purged, its anchor); `count`: the log's last `seq` too
    (marks hold positions, never above their record's number: this covers a purged log)."""
    mark = session.get(LogMark, mark_name("head", replica)) or session.get(
        LogMark, mark_name("anchor", replica)
    )
    position, digest = (mark.seq, mark.record_hash) if mark else (0, GENESIS)
    if not count:
        return ChainStart(position, digest)
    last_seq = max(
        session.exec(select(func.max(LogRecord.seq))).one() or 0,
        session.exec(select(func.max(LogMark.seq))).one() or 0,
    )
    last = session.get(LogRecord, last_seq) if last_seq else None
    found = last is not None and chain_of(last) == (replica, position)  # one chain, as usual
    return ChainStart(position, digest, last_seq, last_seq if found else None)
