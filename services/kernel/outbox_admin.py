"""The admin listing every service's outbox offers: which rows (pending only? how many?), read
oldest first from the service's own outbox model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from sqlmodel import Session, SQLModel, col, select

M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class OutboxQuery:
    pending_only: bool
    limit: int


def _query(pending_by_default: bool) -> Callable[..., OutboxQuery]:
    def query(
        pending: Annotated[
            bool, Query(description="only the events not yet published")
        ] = pending_by_default,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> OutboxQuery:
        return OutboxQuery(pending_only=pending, limit=limit)

    return query


PendingOutboxQuery = Annotated[OutboxQuery, Depends(_query(pending_by_default=True))]
WholeOutboxQuery = Annotated[OutboxQuery, Depends(_query(pending_by_default=False))]


def outbox_rows(
    session: Session,
    model: type[M],
    *,
    delivered_at: Any,
    order: Sequence[Any],
    query: OutboxQuery,
) -> list[M]:
    """Rows of `model` in `order`; with `pending_only`, those whose `delivered_at` is empty."""
    statement = select(model).order_by(*order).limit(query.limit)
    if query.pending_only:
        statement = statement.where(col(delivered_at).is_(None))
    return list(session.exec(statement).all())
