"""In-memory caches kept coherent across a service's replicas: PostgreSQL `LISTEN/NOTIFY`.

A `SharedCache` registered under a topic (`share`) and invalidated after a committed change is
dropped here and, on PostgreSQL, on every other replica of the service, within the listener's
wake-up (well under 1 s); `on` and `announce` do the same for anything else a process keeps.
A listener that lost its connection drops every cache when it is back (it may have missed a
change). On SQLite there is only ever one process per database, so nothing is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.kernel.db import Database
from services.kernel.ids import random_hex

log = logging.getLogger("dpi.kernel.invalidation")

Drop = Callable[[], object]
WAKE_SECONDS = 0.2  # how often the listener checks that it should stop
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)


def channel_of(service: str) -> str:
    return f"dpi_invalidate_{service}"


class SharedCache:
    """A cache whose `invalidate` reaches every replica once `Invalidation.share` bound it."""

    _announce: Drop | None = None

    def drop(self) -> None:
        raise NotImplementedError

    def invalidate(self) -> None:
        self.drop()
        if self._announce is not None:
            self._announce()


class Invalidation:
    """One per service process; `start` after the lifespan opened the database."""

    def __init__(self, service: str) -> None:
        self.channel = channel_of(service)
        self.origin = random_hex(8)  # our own notifications come back to us: skipped
        self._drops: dict[str, list[Drop]] = {}
        self._database: Database | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while a listener connection is open

    def on(self, topic: str, drop: Drop) -> None:
        """`drop` runs when another replica announces `topic`."""
        drops = self._drops.setdefault(topic, [])
        if drop not in drops:  # a lifespan run again registers the same again
            drops.append(drop)

    def share(self, topic: str, cache: SharedCache) -> None:
        """`cache.invalidate()` then drops the cache on every replica."""
        self.on(topic, cache.drop)
        cache._announce = lambda: self.announce(topic)

    def announce(self, topic: str) -> None:
        database = self._database
        if database is None or database.is_sqlite:
            return
        try:
            with database.engine.begin() as conn:
                conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": self.channel, "payload": f"{self.origin} {topic}"},
                )
        except Exception:  # the change is committed; replicas catch up when the listener reconnects
            log.warning("could not announce a change of %s to the other replicas", topic)

    def received(self, payload: str) -> None:
        origin, _, topic = payload.partition(" ")
        if origin != self.origin:
            self._drop(topic)

    def _drop(self, topic: str | None) -> None:
        topics = list(self._drops) if topic is None else [topic]
        for name in topics:
            for drop in self._drops.get(name, ()):
                try:
                    drop()
                except Exception:
                    log.exception("dropping the %s cache failed", name)

    def start(self, database: Database) -> None:
        self._database = database
        if database.is_sqlite or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, args=(_conninfo(database.url),), name=self.channel, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.listening.clear()

    def _listen(self, conninfo: str) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    if failures:
                        self._drop(None)  # changes made while we were away are unknown
                    failures = 0
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAKE_SECONDS):
                            self.received(note.payload)
            except Exception as exc:
                self.listening.clear()
                failures += 1
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
                log.warning("cache invalidation listener lost its connection (%s)", exc)
                self._stop.wait(delay)
        self.listening.clear()


def _conninfo(url: str) -> str:
    parsed: Any = make_url(url).set(drivername="postgresql")
    return str(parsed.render_as_string(hide_password=False))
