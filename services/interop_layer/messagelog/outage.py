"""The message log while its database is unavailable: exchanges are refused, not answered unlogged.

A batch that cannot be committed fails the exchanges waiting for it (they answer 503
`Server.ClientProxy.LoggingFailed`; their records are dropped, never linked into the chain) and
the writer turns unavailable: new exchanges are refused before they reach the provider. Records
nobody waits for (push deliveries) stay queued. Every `RETRY_SECONDS` the writer tries to reopen
its chain: the claim on it taken again if its connection was lost with the server, and the head
read back from the database (a commit whose answer was lost may have landed). Then it is
available again, with no restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from anyio import to_thread

from services.interop_layer.messagelog.chains import ChainClaim, ChainStart, chain_start
from services.kernel.db import Database

log = logging.getLogger("dpi.interop.messagelog")

RETRY_SECONDS = 0.5  # between attempts to reopen the chain
WAIT_SECONDS = 10.0  # the longest an exchange waits for its record's commit
AWAITED = "_awaited"  # a record's key: an exchange waits for its commit (not stored)


class LogUnavailable(Exception):
    """The record could not be committed: the exchange must not be answered."""


def reopen(database: Database, claim: ChainClaim | None, replica: str) -> ChainStart:
    """Hold the chain's claim again and read where the chain ends (raises while unavailable)."""
    if claim is not None:
        claim.ensure(database)
    with database.session() as session:
        return chain_start(session, replica=replica, count=database.is_sqlite)


async def reopened(
    attempt: Callable[[], ChainStart], *, stopping: Callable[[], bool]
) -> ChainStart | None:
    """Run `attempt` (`reopen` under the writer's lock) in a thread until it succeeds; None
    when the writer stops first."""
    while not stopping():
        try:
            return await to_thread.run_sync(attempt)
        except Exception as exc:
            log.warning("message log still unavailable: %s", str(exc).splitlines()[0])
            await asyncio.sleep(RETRY_SECONDS)
    return None
