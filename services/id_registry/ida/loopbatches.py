"""Group commit, on PostgreSQL, of the IDA transactions that write nothing but their deferred
inserts, run on the event loop.

An authentication or eKYC by UIN without an OTP reads its person and writes only an audit row
and, the first time, the partner's token record. Such requests (`pure`) are batched here instead
of on `batches`' worker threads: on a busy event loop, a worker thread waits for the GIL after
every round trip to the database, which made each batch several times slower than its
statements and capped throughput well below the CPU's. Here, on an async connection in autocommit
mode, a batch is at most two round trips, both awaited on the loop: the people it lacks, read in
one statement, then its jobs, run on the loop against those people, and their inserts written by
one statement that commits itself. Every request answers only once that statement has returned,
so nothing acknowledged is lost.

A job here never runs a statement of its own (`Hot.db` refuses): its person comes from the cache
or from the batch's read. Should the write fail with the server's error, the statement did not
commit, and each request's rows are written again alone; should it fail otherwise (the
connection lost on the way), its outcome is unknown, and every request of the batch answers 503
(`IDA-MLC-007`), as a failed commit does in `batches`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
import psycopg

from services.id_registry.ida.commits import batch_failed
from services.id_registry.ida.gathering import LANES, Gathering, Job, Outcome
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.store import Hot, Statements
from services.kernel.kept import Connect, KeptConnection

log = logging.getLogger("dpi.id_registry.loopbatches")


class StatementRefused(RuntimeError):
    """A job of an event-loop batch tried to run a statement (it was wrongly taken as pure)."""


class _NoStatements:
    """`Hot.db` of an event-loop batch: its jobs read their people ahead and defer their inserts."""

    def execute(self, sql: str, *args: Any) -> Any:
        raise StatementRefused(f"an IDA job on the event loop ran a statement: {sql[:60]}")


NO_STATEMENTS = _NoStatements()


def _into(rows: list[tuple[str, Any]]) -> Callable[[str, Any], None]:
    """`Hot.defer` collecting one job's inserts."""

    def defer(sql: str, row: Any) -> None:
        rows.append((sql, row))

    return defer


class LoopBatches(Gathering[KeptConnection]):
    """Runs pure IDA transactions in batches on the event loop, one write statement each."""

    def __init__(self, connect: Connect, statements: Statements, people: PersonCache) -> None:
        super().__init__([KeptConnection(self._connect) for _ in range(LANES)])
        assert statements.write_deferred is not None, "PostgreSQL's statements"
        self.connect = connect
        self._statements = statements
        self._write = statements.write_deferred
        self._people = people

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await self.connect()  # looked up at each call: tests replace `connect`

    async def release(self) -> None:
        """Close the kept connections; the next batches open new ones."""
        for link in self._lanes:
            await link.drop()

    close = release

    def _launch(
        self,
        loop: asyncio.AbstractEventLoop,
        lane: KeptConnection,
        jobs: list[Job],
        uins: list[str],
    ) -> asyncio.Future[list[Outcome]]:
        return asyncio.ensure_future(self._work(lane, jobs, uins))

    async def _work(self, link: KeptConnection, jobs: list[Job], uins: list[str]) -> list[Outcome]:
        connection = await link.get()  # a new one when the server dropped it while idle
        try:
            known = await self._read(connection, uins)
        except Exception:
            await link.drop()
            raise
        outcomes: list[Outcome] = []
        inserts: list[list[tuple[str, Any]]] = []
        for job in jobs:
            rows: list[tuple[str, Any]] = []
            hot = Hot(NO_STATEMENTS, self._statements, _into(rows), known)
            try:
                outcomes.append((True, job(hot)))
                inserts.append(rows)
            except Exception as error:  # this request's own failure: not its neighbours'
                outcomes.append((False, error))
                inserts.append([])
        try:
            await self._insert(connection, [row for rows in inserts for row in rows])
        except psycopg.Error as error:
            await link.drop()
            if error.sqlstate is None:  # lost on the way: committed or not, nobody knows
                log.error("IDA batch write failed: %s", error)
                return [(False, batch_failed())] * len(jobs)
            self.retried += 1
            pairs = zip(outcomes, inserts, strict=True)
            return [await self._alone(outcome, rows) for outcome, rows in pairs]
        self.commits += 1
        return outcomes

    async def _read(
        self, connection: psycopg.AsyncConnection[Any], uins: list[str]
    ) -> dict[str, Any]:
        statement = self._statements.identities_by_uin
        wanted = self._people.wanted(uins)
        if statement is None or not wanted:
            return {}
        generation = self._people.generation
        cursor = await connection.execute(statement.sql, statement.params({"p_uins": wanted}))
        rows = [statement.row(row) for row in await cursor.fetchall()]
        return self._people.keep_all(rows, wanted, generation)

    async def _insert(
        self, connection: psycopg.AsyncConnection[Any], rows: list[tuple[str, Any]]
    ) -> None:
        if not rows:
            return
        audit_sql, token_sql = self._statements.insert_audit.sql, self._statements.insert_token.sql
        audits = [row for sql, row in rows if sql == audit_sql]
        tokens = [row for sql, row in rows if sql == token_sql]
        if len(audits) + len(tokens) != len(rows):
            raise StatementRefused("an IDA job on the event loop deferred another insert")
        await connection.execute(
            self._write, (orjson.dumps(audits).decode(), orjson.dumps(tokens).decode())
        )

    async def _alone(self, outcome: Outcome, rows: list[tuple[str, Any]]) -> Outcome:
        """A request of a batch whose write failed, its own rows written by themselves."""
        if not outcome[0] or not rows:
            return outcome
        try:
            connection = await self.connect()
        except psycopg.Error as error:
            return False, error  # unreachable: the outage handlers answer 503
        try:
            await self._insert(connection, rows)
        except psycopg.Error:
            log.exception("IDA write failed alone")
            return False, batch_failed()
        finally:
            await connection.close()
        return outcome
