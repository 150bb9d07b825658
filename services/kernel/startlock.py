"""Replicas of a service starting together on one PostgreSQL database take turns at creating the
schema and seeding it: a session advisory lock, per service, from `create_all` until every
lifespan has run (the seed included). The second replica waits, then finds the tables and the
seeded rows and seeds nothing twice. On SQLite (one process per database) it is no lock at all.

The lock lives on its own connection, outside the service's pool (and its traces): PostgreSQL
releases it when that connection closes, so a replica killed while it seeds lets the next one
in (which seeds what the killed one had not committed). A database that does not answer at
start is no reason to wait: the service starts without it, as before, and takes the same lock
when `/readyz` creates the schema later.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from services.kernel.claims import lock_key

log = logging.getLogger("dpi.kernel.startlock")


class StartLock:
    """`acquire` blocks until no other replica of `service` is starting; `release` is idempotent."""

    def __init__(self, url: str, service: str) -> None:
        self.url = url
        self.key = lock_key(f"start:{service}")
        self.shared = make_url(url).get_backend_name() != "sqlite"
        self._engine: Engine | None = None
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        """True once held (or nothing to hold, on SQLite); False when the database is down."""
        if not self.shared or self._conn is not None:
            return True
        engine = create_engine(self.url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        try:
            conn = engine.connect()
        except SQLAlchemyError as exc:
            engine.dispose()
            log.warning("start-up lock not taken, the database does not answer: %s", exc)
            return False
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            conn.commit()  # a session lock: held after the transaction, until unlocked or closed
        except SQLAlchemyError as exc:
            conn.close()
            engine.dispose()
            log.warning("start-up lock not taken: %s", exc)
            return False
        self._engine, self._conn = engine, conn
        return True

    def release(self) -> None:
        conn, engine, self._conn, self._engine = self._conn, self._engine, None, None
        if conn is None or engine is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            conn.commit()
        except SQLAlchemyError:
            pass  # closing the connection releases the lock anyway
        finally:
            conn.close()
            engine.dispose()


@contextlib.contextmanager
def starting_alone(url: str, service: str) -> Iterator[None]:
    """The body runs while no other replica of `service` (its database at `url`) creates its
    schema or seeds."""
    lock = StartLock(url, service)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()
