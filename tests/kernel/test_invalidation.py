"""Caches kept coherent across a service's replicas: PostgreSQL LISTEN/NOTIFY, in-process.

Two `Invalidation`s on one database stand for two replicas of one service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.kernel.db import Database
from services.kernel.invalidation import Invalidation, SharedCache
from tests.conftest import USE_POSTGRES, scratch_database
from tests.support.polling import eventually

needs_postgres = pytest.mark.skipif(
    not USE_POSTGRES,
    reason="replicas share a PostgreSQL database (LISTEN/NOTIFY); runs with DPI_TEST_DB=postgres",
)


class Counted(SharedCache):
    def __init__(self) -> None:
        self.drops = 0

    def drop(self) -> None:
        self.drops += 1


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    with scratch_database("invalidation", tmp_path / "unused.db") as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


@pytest.fixture
def replicas(database: Database) -> Iterator[list[Invalidation]]:
    started = [Invalidation("registries"), Invalidation("registries"), Invalidation("consent")]
    for replica in started:
        replica.start(database)
    for replica in started:
        eventually(replica.listening.is_set, within=5, what="the listener connects")
    try:
        yield started
    finally:
        for replica in started:
            replica.stop()


@needs_postgres
def test_a_change_on_one_replica_drops_the_cache_on_the_other_within_a_second(
    replicas: list[Invalidation],
) -> None:
    first, second, other_service = replicas
    mine, theirs, unrelated = Counted(), Counted(), Counted()
    first.share("partners", mine)
    second.share("partners", theirs)
    other_service.share("partners", unrelated)

    mine.invalidate()

    assert mine.drops == 1
    took = eventually(lambda: theirs.drops == 1, within=1.0, what="the other replica drops")
    assert took < 1.0
    time.sleep(0.3)  # our own notification comes back too: it must not drop us again
    assert (mine.drops, theirs.drops, unrelated.drops) == (1, 1, 0)


@needs_postgres
def test_topics_are_separate_and_plain_callbacks_work(replicas: list[Invalidation]) -> None:
    first, second, _ = replicas
    partners, resets = Counted(), []
    second.share("partners", partners)
    second.on("reset", lambda: resets.append(1))
    first.announce("reset")
    eventually(lambda: resets == [1], within=1.0, what="the reset callback")
    assert partners.drops == 0


@needs_postgres
def test_a_listener_that_lost_its_connection_drops_everything_when_back(
    replicas: list[Invalidation], database: Database
) -> None:
    _, second, _ = replicas
    cache = Counted()
    second.share("people", cache)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %%' AND pid <> pg_backend_pid()"
        )
    # a change made while it was away is unknown to it: it drops every cache on reconnecting
    eventually(lambda: cache.drops >= 1, within=5.0, what="a drop after reconnecting")
    eventually(second.listening.is_set, within=5.0, what="listening again")


def test_on_sqlite_nothing_is_sent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    replica = Invalidation("registries")
    replica.start(db)
    cache = Counted()
    replica.share("partners", cache)
    cache.invalidate()  # no listener thread, no notification: only the local drop
    assert cache.drops == 1
    assert not replica.listening.is_set()
    replica.stop()
    db.dispose()


@needs_postgres
def test_a_followed_change_is_applied_on_the_other_replica_before_the_announcement_returns(
    replicas: list[Invalidation],
) -> None:
    first, second, other_service = replicas
    refreshed: list[float] = []

    def slow_refresh() -> None:
        time.sleep(0.2)  # a reload that takes a while: the writer waits for it
        refreshed.append(time.monotonic())

    announce = first.follow("metadata", lambda: None)
    second.follow("metadata", slow_refresh)
    other_service.follow("metadata", lambda: None)  # another service: not waited for
    began = time.monotonic()
    announce()
    took = time.monotonic() - began
    assert len(refreshed) == 1 and refreshed[0] <= time.monotonic()
    assert 0.2 <= took < 1.0, took
    assert not second.pending()


@needs_postgres
def test_a_replica_whose_listener_is_away_refreshes_its_follows_before_each_request(
    replicas: list[Invalidation],
) -> None:
    _, second, _ = replicas
    refreshes: list[int] = []
    second.follow("metadata", lambda: refreshes.append(1))
    assert not second.pending()
    second.stop()  # not listening: what other replicas change is unknown to it
    assert second.pending()
    second.catch_up()
    second.catch_up()
    assert refreshes == [1, 1]


def test_on_sqlite_nothing_is_pending(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    replica = Invalidation("registries")
    replica.start(db)
    refreshes: list[int] = []
    replica.follow("metadata", lambda: refreshes.append(1))()
    assert not replica.pending() and refreshes == []
    replica.stop()
    db.dispose()
