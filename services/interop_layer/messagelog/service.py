"""Read the message log: query records, follow a trace, count statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.interop_layer.messagelog.models import LogMark, LogRecord
from services.kernel.time import as_utc

STATUSES = ("Successful", "Completed", "Completed with error(s)", "Failed")


def query_records(
    *,
    session: Session,
    x_road_id: str | None = None,
    trace_id: str | None = None,
    client: str | None = None,
    service: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LogRecord]:
    """Records matching every given filter, oldest first."""
    query = select(LogRecord)
    if x_road_id:
        query = query.where(LogRecord.x_road_id == x_road_id)
    if trace_id:
        query = query.where(LogRecord.trace_id == trace_id)
    if client:
        query = query.where(LogRecord.client == client)
    if service:
        query = query.where(col(LogRecord.service).startswith(service))
    if kind:
        query = query.where(LogRecord.kind == kind)
    if since:
        query = query.where(col(LogRecord.started_at) >= as_utc(since))
    if until:
        query = query.where(col(LogRecord.started_at) < as_utc(until))
    query = query.order_by(col(LogRecord.seq)).offset(offset).limit(limit)
    return list(session.exec(query))


def status_counts(*, session: Session) -> dict[str, Any]:
    """Exchanges per OpenHIM status, and where the chain stands."""
    rows = session.exec(select(LogRecord.outcome, func.count()).group_by(LogRecord.outcome)).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({outcome: int(n) for outcome, n in rows})
    head = session.get(LogMark, "head")
    anchor = session.get(LogMark, "anchor")
    return {
        "statuses": counts,
        "headSeq": head.seq if head else 0,
        "anchorSeq": anchor.seq if anchor else None,
    }
