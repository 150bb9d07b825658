"""Fast decision I/O: one indexed lookup per decision, and group commit of the audit entries."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.engine import Engine

from services.consent.decisions.engine import Candidate
from services.consent.decisions.models import Decision
from services.consent.records.models import ConsentRecord

log = logging.getLogger("dpi.consent.decisions")

_records = ConsentRecord.__table__  # type: ignore[attr-defined]
_decisions = Decision.__table__  # type: ignore[attr-defined]
_LOOKUP = select(
    _records.c.id,
    _records.c.opt_in,
    _records.c.status,
    _records.c.consent_start,
    _records.c.consent_expiry,
    _records.c.data_consumer,
    _records.c.data_provider,
    _records.c.purpose_code,
    _records.c.data_categories,
).where(
    or_(
        _records.c.subject == bindparam("subject"), _records.c.individual_id == bindparam("subject")
    )
)
_INSERT = insert(_decisions)
MAX_BATCH = 512


def subject_hash(subject: str, secret: str) -> str:
    """Decisions keep only a keyed hash of the subject, so erasure can unlink them."""
    return hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()


def candidates_for(engine: Engine, subject: str) -> list[Candidate]:
    with engine.connect() as conn:
        rows = conn.execute(_LOOKUP, {"subject": subject}).all()
    return [Candidate(*row) for row in rows]


class DecisionLog:
    """Callers await their entry's commit; entries waiting together share one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[None]]] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="consent-decision-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._queue is not None:  # whatever was still waiting is written before exit
            pending = []
            while not self._queue.empty():
                pending.append(self._queue.get_nowait())
            if pending:
                self._write_and_settle(pending)

    async def record(self, entry: dict[str, Any]) -> None:
        if self._queue is None:
            await asyncio.to_thread(self._write, [entry])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((entry, future))
        await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await asyncio.to_thread(self._write, [entry for entry, _ in batch])
            except Exception as exc:  # the callers answer 5xx; the decision was not acknowledged
                log.exception("could not store %d decisions", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _write_and_settle(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        try:
            self._write([entry for entry, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(None)

    def _write(self, entries: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(_INSERT, entries)


def entry(
    *,
    decision_id: str,
    subject_digest: str,
    consumer: str,
    provider: str,
    purpose: str,
    categories: list[str],
    outcome: Any,
    at: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": decision_id,
        "subject_hash": subject_digest,
        "data_consumer": consumer,
        "data_provider": provider,
        "purpose": purpose,
        "data_categories": categories,
        "decision": outcome.decision,
        "reason_code": outcome.code,
        "reason": outcome.reason,
        "consent_record_id": outcome.record_id,
        "decided_at": at,
        "created_at": now,
    }
