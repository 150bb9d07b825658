"""The `pe` dimension's items, as every analytics endpoint reads them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from services.sectoral_platform.aggregate.periods import Period, parse_period, relative_periods
from services.sectoral_platform.dhis2.endpoints import refuse
from services.sectoral_platform.errors import conflict

# relative periods DHIS2 defines that the sandbox does not expand
REFUSED_RELATIVE = frozenset(
    ("LAST_3_DAYS", "LAST_60_DAYS", "LAST_90_DAYS", "LAST_180_DAYS", "WEEKS_THIS_YEAR",
     "LAST_5_FINANCIAL_YEARS", "LAST_10_FINANCIAL_YEARS", "THIS_BIWEEK", "LAST_BIWEEK",
     "LAST_4_BIWEEKS")
)  # fmt: skip


def add_periods(
    items: Iterable[str], today: date, *, relative: list[str], periods: list[Period]
) -> None:
    """Fixed and relative periods appended to `periods` once each (relative names noted)."""
    for item in items:
        if item in REFUSED_RELATIVE:
            refuse("dimension", f"pe:{item}")
        expanded = relative_periods(item, today)
        if expanded is not None:
            relative.append(item)
            periods += [p for p in expanded if p not in periods]
            continue
        period = parse_period(item)
        if period is None:
            raise conflict(f"Period is not valid: `{item}`", "E7124")
        if period not in periods:
            periods.append(period)
