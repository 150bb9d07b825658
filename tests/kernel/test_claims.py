"""Stream claims: one holder at a time among replicas on PostgreSQL; always granted on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services.kernel.claims import StreamClaim, lock_key
from tests.conftest import USE_POSTGRES


def test_the_key_is_stable_and_names_the_stream() -> None:
    assert lock_key("registries-outbox") == lock_key("registries-outbox")
    assert lock_key("registries-outbox") != lock_key("id_registry-outbox")
    assert -(2**63) <= lock_key("registries-outbox") < 2**63


def test_one_holder_at_a_time(database_url: Callable[[str], str], tmp_path: Path) -> None:
    engine = create_engine(database_url("claims"))
    first, second = StreamClaim(engine, "outbox"), StreamClaim(engine, "outbox")
    other = StreamClaim(engine, "another-outbox")
    try:
        assert first.acquire()
        assert second.acquire() is (not USE_POSTGRES)  # SQLite: one process, always granted
        assert other.acquire()
        first.release()
        second.release()
        assert second.acquire()
        second.release()
        other.release()
    finally:
        engine.dispose()


def test_a_holder_whose_connection_dies_frees_the_stream(
    database_url: Callable[[str], str],
) -> None:
    engine = create_engine(database_url("claims"))
    holder, waiter = StreamClaim(engine, "outbox"), StreamClaim(engine, "outbox")
    try:
        assert holder.acquire()
        if USE_POSTGRES:
            assert not waiter.acquire()
            with engine.connect() as admin:  # as when the holder's process is killed
                admin.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND objid::bigint = (:key & 4294967295)"
                    ),
                    {"key": holder.key},
                )
        assert waiter.acquire()
        waiter.release()
    finally:
        engine.dispose()


@pytest.mark.skipif(not USE_POSTGRES, reason="a PostgreSQL setting: DPI_TEST_DB=postgres")
def test_a_server_idle_timeout_does_not_end_a_claim(database_url: Callable[[str], str]) -> None:
    options = {"options": "-c idle_in_transaction_session_timeout=1000"}  # as a managed server
    engine = create_engine(database_url("claims"), connect_args=options)
    claim = StreamClaim(engine, "outbox")
    try:
        assert claim.acquire()
        assert claim._conn is not None
        shown = claim._conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar()
        assert shown == "0"
        claim.release()
    finally:
        engine.dispose()


@pytest.mark.skipif(not USE_POSTGRES, reason="replicas share a PostgreSQL database")
def test_wait_takes_the_claim_once_it_is_free_or_gives_up(
    database_url: Callable[[str], str],
) -> None:
    engine = create_engine(database_url("claims_wait"))
    first, second = StreamClaim(engine, "sync"), StreamClaim(engine, "sync")
    try:
        assert first.wait(1.0)
        assert not second.wait(0.2)  # held elsewhere: gives up after its timeout
        first.release()
        assert second.wait(1.0)
        assert not first.acquire()
        second.release()
    finally:
        engine.dispose()
