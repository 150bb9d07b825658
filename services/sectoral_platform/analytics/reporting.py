"""Reporting rates on `dx` (`<dataSet>.REPORTING_RATE` ...): complete data set registrations
against the reports expected from the data set's org units and period type."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period, contained_periods
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.base import table_of
from services.sectoral_platform.completeness.models import CompleteRegistration
from services.sectoral_platform.metadata.store import MetadataStore

R = table_of(CompleteRegistration)
PERCENT = 100.0
# (item id, period group, unit group) -> (value, numerator, denominator) of one row
Answers = dict[tuple[str, int, int], tuple[float, float | None, float | None]]


def _expected(
    store: MetadataStore, ds: dict[str, object], pe_groups: list[list[Period]],
    ou_groups: list[list[str]],
) -> tuple[list[int], list[set[str]]]:  # fmt: skip
    """Periods of the data set's type per period group; assigned units per unit group."""
    ptype = str(ds.get("periodType") or "Monthly")
    units = ds.get("organisationUnits") or []
    assigned = {u["id"] for u in units} if isinstance(units, list) else set()
    periods = [sum(len(contained_periods(p.start, p.end, {ptype})) for p in ps) for ps in pe_groups]
    within = [{d for u in us for d in store.descendants(u) if d in assigned} for us in ou_groups]
    return periods, within


def reporting_values(
    engine: Engine,
    store: MetadataStore,
    items: list[DataItem],
    pe_groups: list[list[Period]],
    ou_groups: list[list[str]],
) -> Answers:
    answers: Answers = {}
    data_sets = sorted({i.element or "" for i in items})
    if not data_sets:
        return answers
    spans = [p for ps in pe_groups for p in ps]
    low, high = min(p.start for p in spans).isoformat(), max(p.end for p in spans).isoformat()
    stmt = select(R.c.ds, R.c.ou, R.c.pe_start, R.c.pe_end, R.c.date).where(
        and_(
            R.c.ds.in_(data_sets), R.c.completed.is_(True), R.c.pe_start >= low, R.c.pe_end <= high
        )
    )
    with engine.connect() as conn:
        registrations = list(conn.execute(stmt))
    expected: dict[str, tuple[list[int], list[set[str]]]] = {}
    for ds in data_sets:
        expected[ds] = _expected(store, store.get("dataSets", ds) or {}, pe_groups, ou_groups)
    actual: dict[tuple[str, int, int], int] = defaultdict(int)
    on_time: dict[tuple[str, int, int], int] = defaultdict(int)
    for ds, ou, start, end, when in registrations:
        timely = int((store.get("dataSets", ds) or {}).get("timelyDays", 15) or 0)
        deadline = (date.fromisoformat(end) + timedelta(days=timely)).isoformat()
        units = expected[ds][1]
        for i, ps in enumerate(pe_groups):
            if not any(p.start.isoformat() <= start and end <= p.end.isoformat() for p in ps):
                continue
            for j, within in enumerate(units):
                if ou in within:
                    actual[(ds, i, j)] += 1
                    on_time[(ds, i, j)] += str(when)[:10] <= deadline
    for item in items:
        ds, metric = item.element or "", item.coc or ""
        periods, units = expected[ds]
        for i in range(len(pe_groups)):
            for j in range(len(ou_groups)):
                target = float(periods[i] * len(units[j]))
                count = float((on_time if metric.endswith("ON_TIME") else actual)[(ds, i, j)])
                if metric == "EXPECTED_REPORTS":
                    if target:
                        answers[(item.id, i, j)] = (target, None, None)
                elif count and metric.startswith("ACTUAL_REPORTS"):
                    answers[(item.id, i, j)] = (count, None, None)
                elif count and target:
                    answers[(item.id, i, j)] = (
                        min(count * PERCENT / target, PERCENT),
                        count,
                        target,
                    )
    return answers
