"""One async psycopg connection kept between batches by a writer on the event loop (PostgreSQL).

A batch writer that checks a connection out per batch pays a ping and its round trip each time;
one that keeps its connection must notice when the server has dropped it while idle (a restart,
`pg_terminate_backend`, an idle timeout), or its next batch fails for nothing. The server says
so on the socket, with a termination notice or its end: an idle connection whose socket has
anything to read is dropped before the batch's first statement and a new one opened. A cut that
leaves no trace on the socket fails that batch, and the next one gets a new connection.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


def connector(conninfo: str, *, name: str) -> Connect:
    """New connections to `conninfo` in autocommit mode, named `name` in `pg_stat_activity`."""

    async def connect() -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, connect_timeout=3, application_name=name
        )

    return connect


def hung_up(connection: Any) -> bool:
    """Whether an idle connection has heard from the server (nothing is due on an idle one)."""
    if connection.closed:
        return True
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class KeptConnection:
    """The connection one writer keeps; `get` it at a batch's start, `drop` it after a failure."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.opened = 0  # connections opened so far

    async def get(self) -> psycopg.AsyncConnection[Any]:
        """The kept connection, or a new one when there is none or the server dropped it."""
        connection = self.connection
        if connection is not None and hung_up(connection):
            await self.drop()
            connection = None
        if connection is None:
            connection = self.connection = await self.connect()
            self.opened += 1
        return connection

    async def drop(self) -> None:
        """Close the kept connection (the next `get` opens a new one)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):  # already broken: nothing to close
                await connection.close()
