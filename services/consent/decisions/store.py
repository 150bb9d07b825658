"""Fast decision I/O: one indexed lookup per decision, and group commit of the audit entries.

The hot path talks DB-API directly (SQL written once per paramstyle), with the same value
conversions SQLAlchemy applies to these tables, so rows stay readable through the models.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import threading
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from services.consent.decisions.engine import Candidate
from services.kernel.errors import DomainError
from services.kernel.time import as_utc, sqlite_datetime

log = logging.getLogger("dpi.consent.decisions")
MAX_BATCH = 512
DecisionRow = tuple[Any, ...]
_LOOKUP_COLUMNS = (
    "id, opt_in, status, consent_start, consent_expiry, data_consumer, data_provider, "
    "purpose_code, data_categories"
)
_DECISION_COLUMNS = (
    "id",
    "subject_hash",
    "data_consumer",
    "data_provider",
    "purpose",
    "data_categories",
    "decision",
    "reason_code",
    "reason",
    "consent_record_id",
    "decided_at",
    "created_at",
)


def subject_hash(subject: str, secret: str) -> str:
    """Decisions keep only a keyed hash of the subject, so erasure can unlink them."""
    return hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()


class _Dialect:
    """Placeholders and datetime conversions of the engine's dialect."""

    def __init__(self, engine: Engine) -> None:
        self.mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self.is_sqlite = engine.dialect.name == "sqlite"

    def time_in(self, value: datetime) -> Any:
        # SQLite has no datetime type: SQLAlchemy's storage format, so the models read it back.
        return sqlite_datetime(value) if self.is_sqlite else as_utc(value)

    @staticmethod
    def time_out(value: Any) -> datetime:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(parsed, datetime)
        return as_utc(parsed)


def _json_out(value: Any) -> list[str]:
    return list(orjson.loads(value) if isinstance(value, str | bytes) else value)


class DecisionStore:
    """Reads candidates on a connection of its own; writes decisions in batches on another."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = _Dialect(engine)
        mark = self.dialect.mark
        self._by_subject = f"SELECT {_LOOKUP_COLUMNS} FROM consent_record WHERE subject = {mark}"
        self._by_individual = (
            f"SELECT {_LOOKUP_COLUMNS} FROM consent_record WHERE individual_id = {mark}"
        )
        self._row_sql = f"({', '.join([mark] * len(_DECISION_COLUMNS))})"
        self._insert_sql: dict[int, str] = {}
        self._reader: Any = None
        self._writer: Any = None
        self._write_lock = threading.Lock()

    def _connect(self, *, autocommit: bool) -> Any:
        fairy = self.engine.raw_connection()
        if autocommit and not self.dialect.is_sqlite:
            fairy.driver_connection.autocommit = True  # type: ignore[union-attr]
        return fairy

    def checkpoint(self) -> None:
        """Move the SQLite write-ahead log into the database (PASSIVE: blocks nobody).

        The decision writer turns automatic checkpoints off, so that the fsync a checkpoint
        needs happens here, in a background thread, and never inside a request's commit.
        """
        if not self.dialect.is_sqlite:
            return
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.close()
        finally:
            connection.close()

    def _read(self, sql: str, value: str) -> list[Any]:
        for attempt in (1, 2):
            try:
                if self._reader is None:
                    self._reader = self._connect(autocommit=True)
                cursor = self._reader.cursor()
                cursor.execute(sql, (value,))
                rows: list[Any] = cursor.fetchall()
                cursor.close()
                return rows
            except Exception as exc:  # a dropped connection: reconnect once, then give up
                self._drop_reader()
                if attempt == 2:
                    log.warning("consent records unreadable: %s", exc)
                    raise DomainError(
                        "Consent records cannot be read right now; no decision was made.",
                        code="consent-store-unavailable",
                        status_code=503,
                    ) from exc
        raise AssertionError("unreachable")

    def _insert_for(self, rows: int) -> str:
        sql = self._insert_sql.get(rows)
        if sql is None:
            sql = f"INSERT INTO decision ({', '.join(_DECISION_COLUMNS)}) VALUES " + ", ".join(
                [self._row_sql] * rows
            )
            self._insert_sql[rows] = sql
        return sql

    def candidates(self, subject: str) -> list[Candidate]:
        """The subject's records, read now: a withdrawal committed a moment ago is seen.

        The subject is the person's token, or else the consent service's individual id."""
        rows = self._read(self._by_subject, subject)
        if not rows and len(subject) == 36:
            rows = self._read(self._by_individual, subject)
        time_out = self.dialect.time_out
        return [
            Candidate(
                row[0],
                bool(row[1]),
                row[2],
                time_out(row[3]),
                time_out(row[4]),
                row[5],
                row[6],
                row[7],
                _json_out(row[8]),
            )
            for row in rows
        ]

    def write(self, entries: list[DecisionRow]) -> None:
        time_in = self.dialect.time_in
        values: list[Any] = []
        for e in entries:
            decided = time_in(e[10])
            values.extend((*e[:10], decided, decided if e[11] is e[10] else time_in(e[11])))
        with self._write_lock:
            if self._writer is None:
                self._writer = self._connect(autocommit=False)
                if self.dialect.is_sqlite:
                    self._writer.cursor().execute("PRAGMA wal_autocheckpoint=0")
            try:
                cursor = self._writer.cursor()
                # One multi-row statement, not executemany: each row of executemany releases
                # and re-takes the GIL, and every re-take can wait a full switch interval
                # behind the busy event loop.
                cursor.execute(self._insert_for(len(entries)), values)
                cursor.close()
                self._writer.commit()
            except Exception:
                with contextlib.suppress(Exception):
                    self._writer.invalidate()
                self._writer = None
                raise

    def _drop_reader(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):
                self._reader.invalidate()
        self._reader = None

    def close(self) -> None:
        self._drop_reader()
        with self._write_lock:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.close()
            self._writer = None


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
) -> DecisionRow:
    """A decision row, in `_DECISION_COLUMNS` order."""
    return (
        decision_id,
        subject_digest,
        consumer,
        provider,
        purpose,
        orjson.dumps(categories).decode(),
        outcome.decision,
        outcome.code,
        outcome.reason,
        outcome.record_id,
        at,
        now,
    )
