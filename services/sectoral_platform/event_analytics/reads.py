"""What event and enrollment analytics read: events, enrollments, attribute values, counts."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.engine import Connection

from services.sectoral_platform.base import table_of
from services.sectoral_platform.event_analytics.models import R
from services.sectoral_platform.tracker.models import (
    Enrollment,
    Event,
    TrackedEntityAttributeValue,
)

EV = table_of(Event)
EN = table_of(Enrollment)
TEAV = table_of(TrackedEntityAttributeValue)
CHUNK = 500
SEGMENT = 12
FEW = 8  # org units named one by one in SQL; more share one path range


def _under(rows: list[dict[str, Any]], paths: dict[str, str], mode: str) -> list[dict[str, Any]]:
    if mode != "DESCENDANTS" or len(paths) <= FEW:
        return rows
    return [r for r in rows if any(a in paths for a in ancestors(r["ou_path"]))]


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _within(column: Any, ranges: list[tuple[str, str]]) -> Any:
    """A stored timestamp (`YYYY-MM-DDTHH:MM:SS.sss`) within the ranges' span (one index range;
    `_dated` keeps the rows inside one of them)."""
    return (column >= min(s for s, _ in ranges)) & (column <= max(e for _, e in ranges) + "T99")


def _dated(
    rows: list[dict[str, Any]], key: str, ranges: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    if len(ranges) == 1:
        return rows
    return [r for r in rows if any(s <= (r[key] or "")[:10] <= e for s, e in ranges)]


def ancestors(path: str) -> list[str]:
    """`/a/b/c` -> `/a`, `/a/b`, `/a/b/c` (segments are "/" and an 11-character UID)."""
    return [path[:i] for i in range(SEGMENT, len(path) + 1, SEGMENT)]


def _placed(column_path: Any, column_unit: Any, paths: dict[str, str], mode: str) -> Any:
    if mode == "DESCENDANTS" and len(paths) > FEW:
        # one range over the units' common ancestor; `_under` keeps the exact ones
        prefix = posixpath.commonpath(list(paths))
        if prefix == "/":
            return true()
        return (column_path >= prefix) & (column_path < prefix + "0")
    if mode == "SELECTED":
        return column_unit.in_(list(paths.values()))
    if mode == "CHILDREN":
        return or_(*[column_path.like(p + "/___________") for p in paths])
    return or_(*[or_(column_path == p, column_path.like(p + "/%")) for p in paths])


def events(
    conn: Connection,
    *,
    program: str,
    stage: str | None,
    ranges: list[tuple[str, str]],
    paths: dict[str, str],
    mode: str,
    statuses: list[str],
) -> list[dict[str, Any]]:
    """The program's events (of the stage) that occurred in the ranges under the units."""
    conditions = [EV.c.program == program, _within(EV.c.occurred_at, ranges)]
    if stage:
        conditions.append(EV.c.program_stage == stage)
    if statuses:
        conditions.append(EV.c.status.in_(statuses))
    conditions.append(_placed(EV.c.ou_path, EV.c.org_unit, paths, mode))
    found = [dict(r) for r in conn.execute(select(EV).where(*conditions)).mappings()]
    return _under(_dated(found, "occurred_at", ranges), paths, mode)


def enrollments_by_uid(conn: Connection, uids: Iterable[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(uids):
        for row in conn.execute(select(EN).where(EN.c.uid.in_(part))).mappings():
            found[row["uid"]] = dict(row)
    return found


def enrollments(
    conn: Connection,
    *,
    program: str,
    ranges: list[tuple[str, str]],
    paths: dict[str, str],
    mode: str,
    statuses: list[str],
) -> list[dict[str, Any]]:
    """The program's enrollments, enrolled in the ranges, under the units."""
    conditions = [EN.c.program == program, _within(EN.c.enrolled_at, ranges)]
    if statuses:
        conditions.append(EN.c.status.in_(statuses))
    conditions.append(_placed(EN.c.ou_path, EN.c.org_unit, paths, mode))
    found = [dict(r) for r in conn.execute(select(EN).where(*conditions)).mappings()]
    return _under(_dated(found, "enrolled_at", ranges), paths, mode)


def events_of(conn: Connection, enrollment_uids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every event of the enrollments, oldest first."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for part in _chunks(enrollment_uids):
        stmt = select(EV).where(EV.c.enrollment.in_(part)).order_by(EV.c.occurred_at, EV.c.uid)
        for row in conn.execute(stmt).mappings():
            found[row["enrollment"]].append(dict(row))
    return found


def attributes(
    conn: Connection, tes: Iterable[str], wanted: list[str]
) -> dict[str, dict[str, str]]:
    """Tracked entity -> attribute -> value, for the wanted attributes."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    if not wanted:
        return found
    for part in _chunks(tes):
        stmt = select(TEAV).where(TEAV.c.te.in_(part), TEAV.c.attribute.in_(wanted))
        for row in conn.execute(stmt):
            found[row.te][row.attribute] = row.value
    return found


def counts(
    conn: Connection,
    *,
    program: str,
    stage: str | None,
    statuses: list[str],
    months: list[str],
    paths: list[str],
) -> list[tuple[str, str, int]]:
    """(unit path, month, events) from the rollup, for units at or above its level."""
    out: list[tuple[str, str, int]] = []
    for level in sorted({p.count("/") for p in paths}):
        at_level = [p for p in paths if p.count("/") == level]
        anc = func.substr(R.c.area, 1, SEGMENT * level)
        conditions = [R.c.program == program, R.c.month.in_(months), anc.in_(at_level)]
        if stage:
            conditions.append(R.c.stage == stage)
        if statuses:
            conditions.append(R.c.status.in_(statuses))
        stmt = select(anc, R.c.month, func.sum(R.c.n)).where(*conditions).group_by(anc, R.c.month)
        out += [(str(a), str(m), int(n or 0)) for a, m, n in conn.execute(stmt)]
    return out
