"""Claims that let N replicas of a service share one PostgreSQL database without doing the same
work twice; on SQLite (one process) every claim is granted at once and costs nothing.

A claim is a lock held by an open transaction: PostgreSQL releases it when the transaction
ends or its connection closes, so a replica killed with SIGKILL (its socket closed by the kernel)
frees its work at once and another replica takes it over on its next round. A host that vanishes
without closing its sockets is detected by TCP keepalive (PostgreSQL's `tcp_keepalives_*`).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

# A server-wide idle-in-transaction timeout (some managed PostgreSQL set one) must not end a
# claim while its holder waits on HTTP: another replica would start the same work.
KEEP_OPEN = "SET LOCAL idle_in_transaction_session_timeout = 0"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` (the same in every replica)."""
    digest = hashlib.sha256(f"dpi-claim:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def one_writer_at_a_time(conn: Connection, name: str) -> None:
    """Wait until no other replica's transaction holds `name`, then hold it until this
    transaction ends (PostgreSQL; on SQLite the database itself has one writer at a time)."""
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


class StreamClaim:
    """The right to work one ordered stream (an outbox): at most one replica holds it.

    `acquire()` answers whether this replica holds it now; `release()` gives it back. Between the
    two, the holder's transaction stays open (idle while it publishes over HTTP)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.key = lock_key(name)
        self.shared = engine.dialect.name != "sqlite"
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if not self.shared:
            return True
        conn = self.engine.connect()
        try:
            conn.execute(text(KEEP_OPEN))
            held = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": self.key}
                ).scalar_one()
            )
        except BaseException:
            conn.close()
            raise
        if not held:
            conn.rollback()
            conn.close()
            return False
        self._conn = conn
        return True

    def wait(self, seconds: float) -> bool:
        """Hold the claim, waiting up to `seconds` for another replica to release it (False
        when it did not: the claim is not held)."""
        if not self.shared:
            return True
        conn = self.engine.connect()
        try:
            conn.execute(text(KEEP_OPEN))
            conn.execute(text(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self.key})
        except OperationalError:  # lock_timeout: another replica still holds it
            conn.rollback()
            conn.close()
            return False
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.rollback()  # the lock was all this transaction held
            finally:
                conn.close()
