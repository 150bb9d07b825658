"""In-memory caches kept coherent across a service's replicas: PostgreSQL `LISTEN/NOTIFY`.

A `SharedCache` registered under a topic (`share`) and invalidated after a committed change is
dropped here and, on PostgreSQL, on every other replica of the service, within the listener's
wake-up (well under 1 s); `on` and `announce` do the same for anything else a process keeps.
A listener that lost its connection drops every cache when it is back (it may have missed a
change). On SQLite there is only ever one process per database, so nothing is sent.

Read-your-writes across replicas (`follow`, for a cache with a version row of its own that its
refresh compares first): a request to replica B right after a write answered by replica A reads
what A wrote. A notification reaches B's listener some time after A's commit (under load, tens of
milliseconds), so A's announcement waits, up to `ACK_SECONDS`, until every replica listening
then (`pg_stat_activity`, by its listener's application name) answered that it refreshed. Before
every request but the probes (`CatchUpMiddleware`) `catch_up` applies what reached B meanwhile:
one `poll` of the listener's socket while nothing is pending. A replica whose listener is not
connected (starting, or reconnecting) refreshes its follows before each request instead: one
version query. The refresh also runs each time the listener connects.
"""

from __future__ import annotations

import itertools
import logging
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from services.kernel.db import Database, libpq_url
from services.kernel.ids import random_hex
from services.kernel.outage import log_failure

log = logging.getLogger("dpi.kernel.invalidation")

Drop = Callable[[], object]
WAKE_SECONDS = 0.2  # how often the listener checks that it should stop
RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0)
ACK_SECONDS = 1.0  # how long an announcement of a followed topic waits for the other replicas
ACK = "ack"


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
        self.name = f"{self.channel}:{self.origin}"  # the listener's application name
        self._sequence = itertools.count(1)
        self._acks: dict[int, set[str]] = {}
        self._acked = threading.Condition()
        self._drops: dict[str, list[Drop]] = {}
        self._database: Database | None = None
        self._following: set[str] = set()
        self._failed: set[str] = set()  # follows whose refresh failed: retried by `catch_up`
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while a listener connection is open
        self._pgconn: Any = None  # the listener's libpq connection while it is open
        self._poll: select.poll | None = None  # `pending` looks through it, nothing else
        self._reading = threading.Lock()  # held while notifications are read and applied

    def on(self, topic: str, drop: Drop) -> None:
        """`drop` runs when another replica announces `topic`."""
        drops = self._drops.setdefault(topic, [])
        if drop not in drops:  # a lifespan run again registers the same again
            drops.append(drop)

    def follow(self, topic: str, refresh: Drop) -> Callable[[], None]:
        """`refresh` runs when another replica announces `topic` and whenever the listener
        connects; returns what announces a committed change of `topic`."""
        self.on(topic, refresh)
        self._following.add(topic)
        return lambda: self.announce(topic, settle=True)

    def share(self, topic: str, cache: SharedCache) -> None:
        """`cache.invalidate()` then drops the cache on every replica."""
        self.on(topic, cache.drop)
        cache._announce = lambda: self.announce(topic)

    def announce(self, topic: str, *, settle: bool = False) -> None:
        """Tell the other replicas; with `settle`, return once they applied it (or timed out)."""
        database = self._database
        if database is None or database.is_sqlite:
            return
        sequence = next(self._sequence) if settle else 0
        sender = f"{self.origin}:{sequence}" if settle else self.origin
        peers: set[str] = set()
        try:
            with database.engine.begin() as conn:
                if settle:
                    peers = set(
                        conn.execute(
                            text(
                                "SELECT application_name FROM pg_stat_activity "
                                "WHERE starts_with(application_name, :channel) "
                                "AND application_name <> :me"
                            ),
                            {"channel": f"{self.channel}:", "me": self.name},
                        ).scalars()
                    )
                self._notify(conn, f"{sender} {topic}")
        except Exception:  # the change is committed; replicas catch up when the listener reconnects
            log.warning("could not announce a change of %s to the other replicas", topic)
            return
        if peers:
            self._settle(sequence, peers, topic)

    def _notify(self, conn: Any, payload: str) -> None:
        conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": self.channel, "payload": payload},
        )

    def _settle(self, sequence: int, peers: set[str], topic: str) -> None:
        deadline = time.monotonic() + ACK_SECONDS
        with self._acked:
            while not peers <= self._acks.get(sequence, set()):
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sorted(peers - self._acks.get(sequence, set()))
                    log.warning("no word from %s on the change of %s", missing, topic)
                    break
                self._acked.wait(left)
            self._acks.pop(sequence, None)

    def received(self, payload: str) -> None:
        sender, _, topic = payload.partition(" ")
        if sender == ACK:  # "ack <origin>:<sequence> <replica>"
            target, _, replica = topic.partition(" ")
            origin, _, sequence = target.partition(":")
            if origin == self.origin and sequence.isdigit():
                with self._acked:
                    self._acks.setdefault(int(sequence), set()).add(replica)
                    self._acked.notify_all()
            return
        origin, _, sequence = sender.partition(":")
        if origin == self.origin:
            return
        self._drop(topic)
        if sequence and topic not in self._failed and self._database is not None:
            try:  # the sender waits for this
                with self._database.engine.begin() as conn:
                    self._notify(conn, f"{ACK} {sender} {self.name}")
            except Exception:
                log.warning("could not confirm the change of %s", topic)

    def _drop(self, topic: str | None) -> None:
        topics = list(self._drops) if topic is None else [topic]
        for name in topics:
            for drop in self._drops.get(name, ()):
                try:
                    drop()
                except Exception as exc:
                    if name in self._following:
                        self._failed.add(name)
                    log_failure(log, exc, "dropping the %s cache failed", name)

    def pending(self) -> bool:
        """Whether `catch_up` has anything to do: cheap enough to ask before every request."""
        database = self._database
        if database is None or database.is_sqlite:
            return False
        if self._failed or self._reading.locked():
            return True
        if not self.listening.is_set():
            return bool(self._following)  # what was missed meanwhile is unknown
        poll = self._poll
        try:
            return poll is not None and bool(poll.poll(0))
        except RuntimeError:  # polled at once from another thread: look closer
            return True

    def catch_up(self) -> None:
        """Apply what reached the listener connection, after a drop already running (blocks)."""
        with self._reading:
            pgconn = self._pgconn
            if pgconn is not None:
                try:
                    self._read(pgconn)
                except Exception:  # the listener meets it too, reconnects and drops everything
                    log.debug("reading notifications failed", exc_info=True)
            if not self.listening.is_set():
                self._failed |= self._following
            failed, self._failed = self._failed, set()
            for topic in failed:
                self._drop(topic)

    def _read(self, pgconn: Any) -> None:
        pgconn.consume_input()
        while (note := pgconn.notifies()) is not None:
            self.received(note.extra.decode())

    def start(self, database: Database) -> None:
        self._database = database
        if database.is_sqlite or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._listen, args=(libpq_url(database.url),), name=self.channel, daemon=True
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
                with psycopg.connect(
                    conninfo, autocommit=True, connect_timeout=3, application_name=self.name
                ) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    with self._reading:
                        if failures:
                            self._drop(None)  # changes made while we were away are unknown
                        else:
                            for topic in self._following:  # and since the follower loaded
                                self._drop(topic)
                        failures = 0
                        waiting, probe = select.poll(), select.poll()  # one a thread
                        for poll in (waiting, probe):
                            poll.register(conn.pgconn.socket, select.POLLIN)
                        self._pgconn, self._poll = conn.pgconn, probe
                    self.listening.set()
                    while not self._stop.is_set():
                        if waiting.poll(WAKE_SECONDS * 1000):
                            with self._reading:
                                self._read(conn.pgconn)
            except Exception as exc:
                self._pgconn = self._poll = None
                self.listening.clear()
                failures += 1
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1]
                log.warning("cache invalidation listener lost its connection (%s)", exc)
                self._stop.wait(delay)
        self._pgconn = self._poll = None
        self.listening.clear()


class CatchUpMiddleware:
    """Before a request (the probes excepted): what other replicas changed is applied here."""

    def __init__(self, app: ASGIApp, *, invalidation: Invalidation, skip: frozenset[str]) -> None:
        self.app = app
        self.invalidation = invalidation
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in self.skip
            and self.invalidation.pending()
        ):
            await run_in_threadpool(self.invalidation.catch_up)
        await self.app(scope, receive, send)
