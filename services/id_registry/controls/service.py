"""Expectations: stored in the database, matched from an in-memory copy on every IDA call."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.id_registry.controls.models import Expectation, ExpectationCreate, ExpectationPublic
from services.id_registry.errors import MosipError
from services.id_registry.ida.models import AuthAudit, OtpMessage
from services.kernel.invalidation import SharedCache


class ExpectationCache(SharedCache):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[ExpectationPublic] | None = None

    def drop(self) -> None:
        with self._lock:
            self._rows = None

    def loaded(self) -> list[ExpectationPublic] | None:
        return self._rows

    def rows(self, session: Session) -> list[ExpectationPublic]:
        with self._lock:
            if self._rows is None:
                rows = session.exec(select(Expectation).order_by(col(Expectation.id).desc()))
                self._rows = [row.public() for row in rows.all()]
            return self._rows


def match(
    rows: list[ExpectationPublic], *, individual_id: str | None, partner_id: str
) -> ExpectationPublic | None:
    """The newest expectation for this individualId or partner, if any."""
    for row in rows:
        by_id = row.individualId is None or row.individualId == individual_id
        by_partner = row.partnerId is None or row.partnerId == partner_id
        if by_id and by_partner:
            return row
    return None


def add(
    *, session: Session, cache: ExpectationCache, data: ExpectationCreate, now: datetime
) -> ExpectationPublic:
    row = Expectation(
        individual_id=data.individualId,
        partner_id=data.partnerId,
        error_code=data.errorCode,
        error_message=data.errorMessage,
        delay_ms=data.delayMs,
        created_at=now,
    )
    session.add(row)
    session.commit()
    cache.invalidate()
    return row.public()


def list_all(*, session: Session) -> list[ExpectationPublic]:
    rows = session.exec(select(Expectation).order_by(col(Expectation.id))).all()
    return [row.public() for row in rows]


def remove(*, session: Session, cache: ExpectationCache, expectation_id: int) -> None:
    row = session.get(Expectation, expectation_id)
    if row is None:
        raise MosipError("IDA-MLC-018", f"No expectation {expectation_id}", status_code=404)
    session.delete(row)
    session.commit()
    cache.invalidate()


def clear(*, session: Session, cache: ExpectationCache) -> int:
    result = session.execute(delete(Expectation))
    session.commit()
    cache.invalidate()
    return int(result.rowcount)  # type: ignore[attr-defined]


def otp_messages(
    *,
    session: Session,
    individual_id: str | None,
    transaction_id: str | None,
    partner_id: str | None,
    offset: int,
    limit: int,
) -> list[OtpMessage]:
    """OTPs "sent", newest first, optionally for one individual, transaction or partner."""
    query = select(OtpMessage).order_by(col(OtpMessage.id).desc()).offset(offset).limit(limit)
    if individual_id is not None:
        query = query.where(OtpMessage.individual_id == individual_id)
    if transaction_id is not None:
        query = query.where(OtpMessage.transaction_id == transaction_id)
    if partner_id is not None:
        query = query.where(OtpMessage.partner_id == partner_id)
    return list(session.exec(query).all())


def audit_entries(
    *, session: Session, transaction_id: str | None, partner_id: str | None, limit: int
) -> list[AuthAudit]:
    """IDA attempts, newest first, optionally for one transaction or partner."""
    query = select(AuthAudit).order_by(col(AuthAudit.id).desc()).limit(limit)
    if transaction_id is not None:
        query = query.where(AuthAudit.transaction_id == transaction_id)
    if partner_id is not None:
        query = query.where(AuthAudit.partner_id == partner_id)
    return list(session.exec(query).all())
