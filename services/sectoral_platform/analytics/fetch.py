"""Stored values for analytics: one grouped range scan per org unit level (or the district rollup),
as sums, counts and extremes per element, option combo, stored period and requested unit."""

from __future__ import annotations

import operator
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate import rollup
from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.periods import Period, contained_periods
from services.sectoral_platform.base import table_of
from services.sectoral_platform.metadata.schema_types import PERIOD_TYPES
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(DataValue)
COMPARE = {
    "EQ": operator.eq,
    "GT": operator.gt,
    "GE": operator.ge,
    "LT": operator.lt,
    "LE": operator.le,
}
SEGMENT = 12  # "/" + an 11-character UID: paths are fixed-width per level
Stat = tuple[float, int, float, float]  # sum, count, min, max
# (de, coc or None, period start, period end, unit) -> stat; by attribute: coc is "coc:aoc"
Cells = dict[tuple[str, str | None, str, str, str], Stat]


def _successor(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _common_prefix(paths: list[str]) -> str:
    first, last = min(paths), max(paths)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def fetch(
    engine: Engine,
    store: MetadataStore,
    elements: set[str],
    detail: bool,
    periods: list[Period],
    units: list[str],
    extremes: bool = False,
    value_filters: tuple[tuple[str, float], ...] = (),
    attribute: bool = False,
) -> Cells:
    """Sums and counts (min and max only when asked for) per stored period and requested unit:
    from the rollup down to its level, else one covering-index scan of the values per level.
    `attribute` keeps the attribute option combo apart too (the rollup has none)."""
    cells: Cells = {}
    if not elements or not periods or not units:
        return cells
    candidates = _stored_candidates(store, elements, periods)
    if not candidates:
        return cells
    extremes = extremes or any(
        (store.get("dataElements", de) or {}).get("aggregationType") in ("MIN", "MAX")
        for de in elements
    )
    roots = [u for u, obj in store.objects["organisationUnits"].items() if not obj.get("parent")]
    by_level: dict[int, dict[str, str]] = defaultdict(dict)
    for uid in units:
        path = store.path(uid)
        if path is not None:
            by_level[path.count("/")][path] = uid
    des, pes = sorted(elements), sorted(candidates)
    with engine.connect() as conn:
        for level, targets in by_level.items():
            everything = len(targets) == 1 and roots == list(targets.values())
            prefix = _common_prefix(list(targets))

            def within(
                column: Any, prefix: str = prefix, everything: bool = everything
            ) -> list[Any]:
                return [] if everything else [column >= prefix, column < _successor(prefix)]

            if level <= rollup.ROLLUP_LEVEL and not (extremes or value_filters or attribute):
                found = rollup.totals(
                    conn, elements=des, periods=pes, detail=detail, level=level,
                    targets=targets, where_area=within,
                )  # fmt: skip
                records = [(*r, 0.0, 0.0) for r in found]
            else:
                records = _scan(
                    conn, des, pes, detail, level, within, extremes, value_filters, attribute
                )
            for de, co, pe, path, total, count, low, high in records:
                unit = targets.get(str(path))
                if unit is None or not count:
                    continue
                s, e = candidates[pe]
                cells[(de, co, s, e, unit)] = (float(total), int(count), float(low), float(high))
    return cells


def _scan(
    conn: Any, des: list[str], pes: list[str], detail: bool, level: int, within: Any,
    extremes: bool, value_filters: tuple[tuple[str, float], ...] = (), attribute: bool = False,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Aggregates straight from the data values: seek by element and period, path prefix range."""
    anc = func.substr(T.c.ou_path, 1, SEGMENT * level)
    combo = [T.c.co + ":" + T.c.ao] if attribute else [T.c.co]
    keys = [T.c.de, *(combo if detail else []), T.c.pe]
    aggregates = [func.sum(T.c.num), func.count(T.c.num)]
    if extremes:
        aggregates += [func.min(T.c.num), func.max(T.c.num)]
    stmt = (
        select(*keys, anc, *aggregates)
        .where(
            and_(
                T.c.de.in_(des),
                T.c.pe.in_(pes),
                *within(T.c.ou_path),
                *(COMPARE[op](T.c.num, limit) for op, limit in value_filters),
            )
        )
        .group_by(*keys, anc)
    )
    out = []
    for rec in conn.execute(stmt):
        values = tuple(rec)
        if not detail:
            values = (values[0], None, *values[1:])
        if not extremes:
            values = (*values, 0.0, 0.0)
        out.append(values)
    return out


def _stored_candidates(
    store: MetadataStore, elements: set[str], periods: list[Period]
) -> dict[str, tuple[str, str]]:
    """Every period id a stored value could have inside the requested periods, with its bounds:
    the types of the elements' data sets (any type for an element in no data set)."""
    types: set[str] = set()
    for de in elements:
        items = store.inverse("dataElements", "dataSetElements", de)
        if not items:
            types.update(PERIOD_TYPES)
            break
        for item in items:
            ds = store.get("dataSets", item["dataSet"]["id"]) or {}
            types.add(str(ds.get("periodType", "Monthly")))
    found: dict[str, tuple[str, str]] = {}
    for requested in periods:
        for period in contained_periods(requested.start, requested.end, types):
            found[period.id] = (period.start.isoformat(), period.end.isoformat())
    return found
