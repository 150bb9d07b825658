"""Group commit of the IDA hot path on PostgreSQL: one transaction per batch, on worker threads,
for the transactions that spend something (an OTP, a VID) or send an OTP; those that only insert
are batched on the event loop (`loopbatches`).

A PostgreSQL commit waits for a WAL flush, and each transaction on a pooled connection costs its
own round trips (the pool's ping, `BEGIN`, `COMMIT`) and two thread hand-offs: far more than the
statements of an authentication. Here the requests that arrive while the batches in flight run
(two: one's statements overlap the other's WAL flush) wait for the next one; a worker thread runs
each batch's transactions (`job(hot)`) one after the other in one transaction on a connection it
keeps, writes the batch's deferred inserts (audit rows by one COPY, token records by one
`executemany`, pipelined by psycopg) and commits once. Each request answers only after the
commit that holds its writes, so nothing acknowledged is lost.

Replica safety is the single transactions': OTPs and VIDs are spent by conditional `UPDATE`s (a
concurrent replica's batch waits for the row lock, then re-checks), tokens inserted
`ON CONFLICT DO NOTHING`. Should a statement fail (a deadlock between two replicas' batches, a
lost connection), nothing of the batch is committed and each request is run again alone in its
own transaction, with the answer it would have had without the batch. Should the commit itself
fail, its outcome is unknown, so no request is retried: each answers 503 (`IDA-MLC-007`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from services.id_registry.ida.commits import batch_failed
from services.id_registry.ida.gathering import LANES, Gathering, Job, Outcome
from services.id_registry.ida.people import PersonCache
from services.id_registry.ida.store import Hot, Statements

log = logging.getLogger("dpi.id_registry.batches")


class _Lane:
    """A worker thread and the pool connection it keeps between batches (used on it only)."""

    def __init__(self, number: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ida-commit-{number}")
        self.raw: Any = None

    def drop(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            _rollback(raw)
            raw.close()


class ThreadedGroupCommit(Gathering[_Lane]):
    """Runs IDA transactions in batches, one commit each, on worker threads' connections."""

    def __init__(self, engine: Engine, statements: Statements, people: PersonCache) -> None:
        super().__init__([_Lane(number) for number in range(LANES)])
        self.engine = engine
        self._statements = statements
        self._people = people

    def release(self) -> None:
        """Give the kept connections back to the pool; the next batches take new ones."""
        for lane in self._lanes:
            lane.executor.submit(lane.drop).result()

    def close(self) -> None:
        for lane in self._lanes:
            lane.executor.submit(lane.drop)
            lane.executor.shutdown(wait=True)

    def _launch(
        self, loop: asyncio.AbstractEventLoop, lane: _Lane, jobs: list[Job], uins: list[str]
    ) -> asyncio.Future[list[Outcome]]:
        return loop.run_in_executor(lane.executor, self._work, lane, jobs, uins)

    # The rest runs on a lane's worker thread.

    def _work(self, lane: _Lane, jobs: list[Job], uins: list[str]) -> list[Outcome]:
        try:
            results = self._together(lane, jobs, uins)
        except Exception:
            lane.drop()
            self.retried += 1
            return [self._alone(job) for job in jobs]
        try:
            lane.raw.dbapi_connection.commit()
        except Exception:
            log.exception("group commit failed")
            lane.drop()
            return [(False, batch_failed())] * len(jobs)
        self.commits += 1
        return [(True, result) for result in results]

    def _together(self, lane: _Lane, jobs: list[Job], uins: list[str]) -> list[Any]:
        if lane.raw is None:
            lane.raw = self.engine.raw_connection()
        db = lane.raw.dbapi_connection
        deferred: dict[str, list[Any]] = {}
        hot = Hot(db, self._statements, lambda sql, row: deferred.setdefault(sql, []).append(row))
        hot.known = self._people.prefetch(hot, uins)
        results = [job(hot) for job in jobs]
        audits = deferred.pop(self._statements.insert_audit.sql, [])
        with db.cursor() as cursor:
            for sql, rows in deferred.items():
                cursor.executemany(sql, rows)
            if audits:
                names = self._statements.audit_columns
                with cursor.copy(self._statements.copy_audit) as copy:
                    for audit in audits:
                        copy.write_row([audit[name] for name in names])
        return results

    def _alone(self, job: Job) -> Outcome:
        raw = self.engine.raw_connection()
        try:
            db = raw.dbapi_connection
            assert db is not None
            result = job(Hot(db, self._statements))
            db.commit()
            return True, result
        except Exception as error:
            _rollback(raw)
            return False, error
        finally:
            raw.close()


def _rollback(raw: Any) -> None:
    try:
        raw.rollback()
    except Exception:
        raw.invalidate()  # a lost connection: the pool opens a new one
