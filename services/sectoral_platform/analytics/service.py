"""Analytics from current data: one grouped range scan per org unit level, then aggregation by
each data element's aggregation type, indicators evaluated on the aggregates."""

from __future__ import annotations

from collections import defaultdict
from itertools import product
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate import rollup
from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.periods import Period, contained_periods
from services.sectoral_platform.analytics.expressions import evaluate
from services.sectoral_platform.analytics.program_indicators import KIND as PI_KIND
from services.sectoral_platform.analytics.program_indicators import program_indicator_value
from services.sectoral_platform.analytics.request import (
    AnalyticsQuery,
    indicator_elements,
)
from services.sectoral_platform.analytics.response import AnalyticsResponse, build_response
from services.sectoral_platform.base import table_of
from services.sectoral_platform.metadata.schema_types import PERIOD_TYPES
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(DataValue)
SEGMENT = 12  # "/" + an 11-character UID: paths are fixed-width per level
Stat = tuple[float, int, float, float]  # sum, count, min, max
# (de, coc or None, period start, period end, unit) -> stat
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
) -> Cells:
    """Sums and counts (min and max only when asked for) per stored period and requested unit:
    from the rollup down to its level, else one covering-index scan of the values per level."""
    cells: Cells = {}
    if not elements or not periods or not units:
        return cells
    candidates = _stored_candidates(store, elements, periods)
    if not candidates:
        return cells
    extremes = any(
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

            if level <= rollup.ROLLUP_LEVEL and not extremes:
                found = rollup.totals(
                    conn, elements=des, periods=pes, detail=detail, level=level,
                    targets=targets, where_area=within,
                )  # fmt: skip
                records = [(*r, 0.0, 0.0) for r in found]
            else:
                records = _scan(conn, des, pes, detail, level, within, extremes)
            for de, co, pe, path, total, count, low, high in records:
                unit = targets.get(str(path))
                if unit is None or not count:
                    continue
                s, e = candidates[pe]
                cells[(de, co, s, e, unit)] = (float(total), int(count), float(low), float(high))
    return cells


def _scan(
    conn: Any, des: list[str], pes: list[str], detail: bool, level: int, within: Any,
    extremes: bool,
) -> list[tuple[Any, ...]]:  # fmt: skip
    """Aggregates straight from the data values: seek by element and period, path prefix range."""
    anc = func.substr(T.c.ou_path, 1, SEGMENT * level)
    keys = [T.c.de, *([T.c.co] if detail else []), T.c.pe]
    aggregates = [func.sum(T.c.num), func.count(T.c.num)]
    if extremes:
        aggregates += [func.min(T.c.num), func.max(T.c.num)]
    stmt = (
        select(*keys, anc, *aggregates)
        .where(and_(T.c.de.in_(des), T.c.pe.in_(pes), *within(T.c.ou_path)))
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


def combine(entries: list[tuple[str, Stat]], aggregation: str) -> float | None:
    """Aggregate (stored period start, stat) entries by the data element's aggregation type."""
    if not entries:
        return None
    if aggregation == "COUNT":
        return float(sum(stat[1] for _, stat in entries))
    if aggregation == "MIN":
        return min(stat[2] for _, stat in entries)
    if aggregation == "MAX":
        return max(stat[3] for _, stat in entries)
    if aggregation == "AVERAGE":
        return sum(s[0] for _, s in entries) / sum(s[1] for _, s in entries)
    per_period: dict[str, list[Stat]] = defaultdict(list)
    for start, stat in entries:
        per_period[start].append(stat)
    if aggregation == "AVERAGE_SUM_ORG_UNIT":
        totals = [sum(s[0] for s in stats) for stats in per_period.values()]
        return sum(totals) / len(totals)
    if aggregation in ("LAST", "FIRST", "LAST_AVERAGE_ORG_UNIT", "FIRST_AVERAGE_ORG_UNIT"):
        key = max(per_period) if aggregation.startswith("LAST") else min(per_period)
        stats = per_period[key]
        total = sum(s[0] for s in stats)
        return total / sum(s[1] for s in stats) if aggregation.endswith("ORG_UNIT") else total
    return sum(s[0] for _, s in entries)


def format_value(value: float, decimals: int | None = None) -> str:
    """Row values are strings; whole numbers without a fraction, others rounded."""
    rounded = round(value, 2 if decimals is None else decimals)
    if float(rounded).is_integer():
        return str(int(rounded))
    return str(rounded)


def run(
    engine: Engine, store: MetadataStore, query: AnalyticsQuery, display: str = "NAME"
) -> AnalyticsResponse:
    pe_dim, ou_dim, dx_dim = query.dim("pe"), query.dim("ou"), query.dim("dx")
    pe_groups: list[tuple[str | None, list[Period]]] = (
        [(None, query.periods)] if pe_dim.is_filter else [(p.id, [p]) for p in query.periods]
    )
    ou_groups: list[tuple[str | None, list[str]]] = (
        [(None, query.units)] if ou_dim.is_filter else [(u, [u]) for u in query.units]
    )
    totals: set[str] = set()
    details: set[str] = set()
    for item in query.data:
        if item.kind == "dataElement":
            totals.add(item.element or "")
        elif item.kind == "detail":
            details.add(item.element or "")
        else:
            for de, coc in indicator_elements(store, item.id):
                (details if coc else totals).add(de)
    cells = fetch(engine, store, totals, False, query.periods, query.units)
    detail_cells = (
        fetch(engine, store, details, True, query.periods, query.units) if details else {}
    )
    stored_periods = {(k[2], k[3]) for k in (*cells, *detail_cells)}
    period_map: dict[tuple[str, str], list[int]] = {
        sp: [
            i
            for i, (_, ps) in enumerate(pe_groups)
            if any(p.start.isoformat() <= sp[0] and sp[1] <= p.end.isoformat() for p in ps)
        ]
        for sp in stored_periods
    }
    index: dict[tuple[str, str | None, int, int], list[tuple[str, Stat]]] = defaultdict(list)
    unit_groups: dict[str, list[int]] = defaultdict(list)
    for j, (_, us) in enumerate(ou_groups):
        for u in us:
            unit_groups[u].append(j)
    for source in (cells, detail_cells):
        for (de, co, s, e, unit), stat in source.items():
            for i in period_map[(s, e)]:
                for j in unit_groups[unit]:
                    index[(de, co, i, j)].append((s, stat))

    def element_value(de: str, co: str | None, i: int, j: int) -> float | None:
        element = store.get("dataElements", de) or {}
        return combine(index.get((de, co, i, j), []), element.get("aggregationType", "SUM"))

    rows: list[list[str]] = []
    row_dims = [d.name for d in query.dimensions if not d.is_filter]
    dx_groups = [[item] for item in query.data] if not dx_dim.is_filter else [query.data]
    for dx_group, (i, (pe_id, _)), (j, (ou_id, _)) in product(
        dx_groups, enumerate(pe_groups), enumerate(ou_groups)
    ):
        value: float | None = None
        decimals: int | None = None
        for item in dx_group:
            part: float | None
            if item.kind == "indicator":
                ind = store.get("indicators", item.id) or {}
                lookup = lambda de, co, i=i, j=j: element_value(de, co, i, j)  # noqa: E731
                num = evaluate(ind.get("numerator", "0"), lookup)
                den = evaluate(ind.get("denominator", "1"), lookup)
                if num is None or den in (None, 0):
                    continue
                factor = (
                    store.get("indicatorTypes", (ind.get("indicatorType") or {}).get("id", ""))
                    or {}
                ).get("factor", 1)
                part = num / den * float(factor)
                decimals = ind.get("decimals")
            elif item.kind == PI_KIND:
                part, decimals = program_indicator_value(
                    engine, store, item.id, pe_groups[i][1], ou_groups[j][1]
                )
            else:
                part = element_value(item.element or "", item.coc, i, j)
            if part is not None:
                value = part if value is None else value + part
        if value is None:
            continue
        ids = {"dx": dx_group[0].id, "pe": pe_id, "ou": ou_id}
        rows.append([str(ids[name]) for name in row_dims] + [format_value(value, decimals)])
    return build_response(store, query, rows, row_dims, display)
