"""Where fault rules live: this process's memory on SQLite (one process per database), the
`fault_rule` table on PostgreSQL, shared by every replica of the mediator.

On PostgreSQL an admin change is committed, reloaded here and announced (`Invalidation`, topic
`faults`): the other replicas reload the rules within the listener's wake-up (well under 1 s).
Each firing of a shared rule is settled on its row (`SELECT ... FOR UPDATE`): `fired` and `times`
count over all replicas, a `rate_limit` window counts every replica's calls by the database's
clock, and a rule used up on one replica is gone on all of them.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select, text, update
from sqlmodel import col

from services.interop_layer.directory import EndpointRule
from services.interop_layer.faults.models import FaultRow, FaultRule, FaultRuleCreate
from services.kernel.db import Database
from services.kernel.invalidation import Invalidation
from services.kernel.time import utcnow

log = logging.getLogger("dpi.interop.faults")
TOPIC = "faults"


class Outcome(Enum):
    FIRE = "fire"  # the fault applies to this call
    LAST = "last"  # it applies, and it was the rule's last time: the rule is gone
    PASS = "pass"  # a rate limit not reached: the call goes through
    GONE = "gone"  # the rule was removed (or used up) meanwhile: try the next one


class HoldsFaults(Protocol):
    faults: tuple[FaultRule, ...]


def fire_here(rule: FaultRule) -> Outcome:
    """A firing settled in this process (SQLite)."""
    if rule.spec.kind == "rate_limit" and not rule.over_limit():
        return Outcome.PASS
    rule.fired += 1
    return (
        Outcome.LAST
        if rule.spec.times is not None and rule.fired >= rule.spec.times
        else (Outcome.FIRE)
    )


def _rule(row: Any) -> FaultRule:
    spec = FaultRuleCreate.model_validate(row.spec)
    endpoint = EndpointRule.of({"method": spec.method, "path": spec.path})
    return FaultRule(id=row.id, spec=spec, endpoint=endpoint, fired=row.fired)


class FaultStore:
    """The rules of one mediator process: kept here, or shared through the database."""

    def __init__(self, database: Database, invalidation: Invalidation, holder: HoldsFaults) -> None:
        self.database = database
        self.shared = not database.is_sqlite
        self.invalidation = invalidation
        self.holder = holder
        if self.shared:
            invalidation.on(TOPIC, self.refresh)

    def refresh(self) -> None:
        """The rules as the database has them now (another replica changed them)."""
        if not self.shared:
            return
        with self.database.engine.connect() as conn:
            rows = conn.execute(
                select(FaultRow).order_by(col(FaultRow.created_at), col(FaultRow.id))
            ).all()
        self.holder.faults = tuple(_rule(row) for row in rows)

    def _changed(self) -> None:
        self.refresh()
        self.invalidation.announce(TOPIC)

    def rules(self) -> tuple[FaultRule, ...]:
        """For the listing: on PostgreSQL read now, so `fired` counts every replica's firings."""
        if self.shared:
            self.refresh()
        return self.holder.faults

    def add(self, rule: FaultRule) -> None:
        if not self.shared:
            self.holder.faults = (*self.holder.faults, rule)
            return
        with self.database.session() as session:
            spec = rule.spec.model_dump(mode="json")
            session.add(FaultRow(id=rule.id, spec=spec, created_at=utcnow()))
            session.commit()
        self._changed()

    def remove(self, rule_id: str) -> bool:
        if not self.shared:
            kept = tuple(rule for rule in self.holder.faults if rule.id != rule_id)
            found = len(kept) != len(self.holder.faults)
            self.holder.faults = kept
            return found
        with self.database.engine.begin() as conn:
            found = conn.execute(delete(FaultRow).where(col(FaultRow.id) == rule_id)).rowcount > 0
        self._changed()
        return found

    def clear(self) -> None:
        if self.shared:
            with self.database.engine.begin() as conn:
                conn.execute(delete(FaultRow))
            self._changed()
        else:
            self.holder.faults = ()

    def forget(self) -> None:
        """After `POST /admin/reset` emptied the table (PostgreSQL) or here (SQLite)."""
        if self.shared:
            self._changed()
        else:
            self.holder.faults = ()

    def fire(self, rule: FaultRule) -> Outcome:
        """Settle one firing of a shared rule on its row (blocking: run in a thread)."""
        with self.database.engine.begin() as conn:
            outcome = _settle(conn, rule)
        if outcome is Outcome.LAST:
            self._changed()
        elif outcome is Outcome.GONE:
            self.refresh()  # whoever removed it told the others
        return outcome


def _settle(conn: Connection, rule: FaultRule) -> Outcome:
    found = conn.execute(
        select(FaultRow.fired, FaultRow.window)  # type: ignore[call-overload]
        .where(col(FaultRow.id) == rule.id)
        .with_for_update()
    ).first()
    if found is None:
        return Outcome.GONE
    fired, window = int(found[0]), list(found[1])
    spec = rule.spec
    if spec.kind == "rate_limit":
        now = float(conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one())
        window = [at for at in window if now - at < spec.window_s]
        if len(window) < spec.limit:
            window.append(now)
            _store(conn, rule.id, fired, window)
            return Outcome.PASS
    fired += 1
    rule.fired = fired
    if spec.times is not None and fired >= spec.times:
        conn.execute(delete(FaultRow).where(col(FaultRow.id) == rule.id))
        return Outcome.LAST
    _store(conn, rule.id, fired, window)
    return Outcome.FIRE


def _store(conn: Connection, rule_id: str, fired: int, window: list[float]) -> None:
    conn.execute(
        update(FaultRow).where(col(FaultRow.id) == rule_id).values(fired=fired, window=window)
    )
