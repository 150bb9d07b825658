"""A cell's stored statistics combined by the data element's aggregation type, and a row
value written as DHIS2 writes it."""

from __future__ import annotations

from collections import defaultdict

from services.sectoral_platform.analytics.fetch import Stat


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


def format_value(value: float, decimals: int | None = None, skip_rounding: bool = False) -> str:
    """Row values are strings; whole numbers without a fraction, others rounded."""
    rounded = value if skip_rounding else round(value, 2 if decimals is None else decimals)
    if float(rounded).is_integer():
        return str(int(rounded))
    return str(rounded)
