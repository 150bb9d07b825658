"""The connection a writer on the event loop keeps (`kernel/kept.py`, PostgreSQL): kept between
batches, and replaced before a batch's first statement once the server has dropped it."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from services.kernel.kept import KeptConnection, connector, hung_up
from tests.conftest import POSTGRES_ADMIN_URL, USE_POSTGRES

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        not USE_POSTGRES,
        reason="KeptConnection keeps a PostgreSQL connection: runs with DPI_TEST_DB=postgres",
    ),
]


def terminate(connection: Any) -> None:
    """Have the server drop `connection` (as a restart does); wait until its socket says so."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
    deadline = time.monotonic() + 5
    while not hung_up(connection):
        assert time.monotonic() < deadline, "the server did not drop the connection"
        time.sleep(0.01)


async def test_a_connection_is_kept_and_replaced_once_the_server_dropped_it() -> None:
    kept = KeptConnection(connector(POSTGRES_ADMIN_URL, name="kept-test"))
    first = await kept.get()
    await first.execute("SELECT 1")
    assert not hung_up(first)
    assert await kept.get() is first and kept.opened == 1
    terminate(first)
    second = await kept.get()
    assert second is not first and kept.opened == 2
    assert await (await second.execute("SELECT 2")).fetchone() == (2,)
    await kept.drop()
    assert kept.connection is None and second.closed
    await kept.drop()  # nothing kept: nothing to do
