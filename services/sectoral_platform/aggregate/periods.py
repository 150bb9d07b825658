"""DHIS2 period identifiers: parsing and validation for every period type, and relative periods."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = [calendar.month_name[m] for m in range(1, 13)]
_FINANCIAL = {"April": 4, "July": 7, "Oct": 10, "Nov": 11}
_WEEKLY_START = {"Wed": 3, "Thu": 4, "Sat": 6, "Sun": 7}
_WEEKLY_TYPE = {
    "Wed": "WeeklyWednesday",
    "Thu": "WeeklyThursday",
    "Sat": "WeeklySaturday",
    "Sun": "WeeklySunday",
}


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    type: str
    start: date
    end: date

    @property
    def name(self) -> str:
        if self.type == "Daily":
            return self.start.isoformat()
        if self.type == "Monthly":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        if self.type == "Yearly":
            return str(self.start.year)
        if self.type.startswith("Weekly") or self.type == "BiWeekly":
            number = self.id.split("W")[-1]
            prefix = "Bi-Week" if self.type == "BiWeekly" else "Week"
            return f"{prefix} {number} {self.start.isoformat()} - {self.end.isoformat()}"
        first, last = MONTHS[self.start.month - 1], MONTHS[self.end.month - 1]
        if self.start.year == self.end.year:
            return f"{first} - {last} {self.start.year}"
        return f"{first} {self.start.year} - {last} {self.end.year}"

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months(pid: str, ptype: str, year: int, first_month: int, count: int) -> Period:
    start = date(year, first_month, 1)
    last_month = first_month + count - 1
    end_year, end_month = year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
    return Period(pid, ptype, start, _month_end(end_year, end_month))


def _iso_week_start(year: int, week: int, weekday: int = 1) -> date | None:
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    if weekday == 1:
        return monday
    # Weeks starting on another day: week 1 is the one containing the year's first such weekday
    # shifted as DHIS2 does (the week that holds Jan 4 in that week's own alignment).
    jan4 = date(year, 1, 4)
    first = jan4 - timedelta(days=(jan4.isoweekday() - weekday) % 7)
    start = first + timedelta(weeks=week - 1)
    last_first = date(year + 1, 1, 4) - timedelta(
        days=(date(year + 1, 1, 4).isoweekday() - weekday) % 7
    )
    return start if start < last_first else None


# DHIS2 2.42's spellings (`DateUnitType`): days and months also with dashes, weeks with one or
# two digits; each period is stored and returned under its one canonical id (`getIsoDate`)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "Daily"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "Daily"),
    (re.compile(r"^(\d{4})W(\d{1,2})$"), "Weekly"),
    (re.compile(r"^(\d{4})(Wed|Thu|Sat|Sun)W(\d{1,2})$"), "WeeklyOther"),
    (re.compile(r"^(\d{4})BiW(\d{1,2})$"), "BiWeekly"),
    (re.compile(r"^(\d{4})(\d{2})$"), "Monthly"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "Monthly"),
    (re.compile(r"^(\d{4})(\d{2})B$"), "BiMonthly"),
    (re.compile(r"^(\d{4})Q([1-4])$"), "Quarterly"),
    (re.compile(r"^(\d{4})S([12])$"), "SixMonthly"),
    (re.compile(r"^(\d{4})AprilS([12])$"), "SixMonthlyApril"),
    (re.compile(r"^(\d{4})$"), "Yearly"),
    (re.compile(r"^(\d{4})(April|July|Oct|Nov)$"), "Financial"),
]


def parse_period(pid: str) -> Period | None:
    """The period an identifier names (its `id` the canonical one: `2024W1` for `2024W01`,
    `202401` for `2024-01`), or None if it is not a valid DHIS2 period id."""
    for pattern, kind in _PATTERNS:
        match = pattern.match(pid)
        if match:
            try:
                return _build(pid, kind, match.groups())
            except ValueError:
                return None
    return None


def canonical(pid: str) -> str:
    """The canonical id of the period `pid` names; `pid` itself when it names none."""
    period = parse_period(pid)
    return pid if period is None else period.id


def _build(pid: str, kind: str, groups: tuple[str, ...]) -> Period | None:
    year = int(groups[0])
    if year < 1000:
        return None
    if kind == "Daily":
        day = date(year, int(groups[1]), int(groups[2]))
        return Period(day.strftime("%Y%m%d"), "Daily", day, day)
    if kind == "Weekly":
        week = int(groups[1])
        start = _iso_week_start(year, week)
        if start is None:
            return None
        return Period(f"{year}W{week}", "Weekly", start, start + timedelta(days=6))
    if kind == "WeeklyOther":
        week = int(groups[2])
        start = _iso_week_start(year, week, _WEEKLY_START[groups[1]])
        if start is None or week < 1:
            return None
        pid = f"{year}{groups[1]}W{week}"
        return Period(pid, _WEEKLY_TYPE[groups[1]], start, start + timedelta(days=6))
    if kind == "BiWeekly":
        number = int(groups[1])
        start = _iso_week_start(year, 2 * number - 1)
        if start is None or number < 1 or _iso_week_start(year, 2 * number) is None:
            return None
        return Period(f"{year}BiW{number}", "BiWeekly", start, start + timedelta(days=13))
    if kind == "Monthly":
        month = int(groups[1])
        if not 1 <= month <= 12:
            return None
        return _months(f"{year}{month:02d}", "Monthly", year, month, 1)
    if kind == "BiMonthly":
        number = int(groups[1])
        return None if not 1 <= number <= 6 else _months(pid, "BiMonthly", year, 2 * number - 1, 2)
    if kind == "Quarterly":
        return _months(pid, "Quarterly", year, 3 * int(groups[1]) - 2, 3)
    if kind == "SixMonthly":
        return _months(pid, "SixMonthly", year, 6 * int(groups[1]) - 5, 6)
    if kind == "SixMonthlyApril":
        return _months(pid, "SixMonthlyApril", year, 4 + 6 * (int(groups[1]) - 1), 6)
    if kind == "Yearly":
        return Period(pid, "Yearly", date(year, 1, 1), date(year, 12, 31))
    suffix = groups[1]
    return _months(pid, f"Financial{suffix}", year, _FINANCIAL[suffix], 12)


def _weekly_id(ptype: str, day: date) -> str:
    """The id of the week of `ptype` (Weekly, WeeklyWednesday, ...) that contains `day`."""
    if ptype == "Weekly":
        iso = day.isocalendar()
        return f"{iso.year}W{iso.week}"
    prefix = next(k for k, v in _WEEKLY_TYPE.items() if v == ptype)
    weekday = _WEEKLY_START[prefix]
    start = day - timedelta(days=(day.isoweekday() - weekday) % 7)
    for year in (start.year + 1, start.year, start.year - 1):
        jan4 = date(year, 1, 4)
        first = jan4 - timedelta(days=(jan4.isoweekday() - weekday) % 7)
        if start >= first:
            return f"{year}{prefix}W{(start - first).days // 7 + 1}"
    raise ValueError(f"no {ptype} week for {day}")


def period_of_type(ptype: str, day: date) -> Period:
    """The period of type `ptype` that contains `day`."""
    y, m = day.year, day.month
    if ptype == "Daily":
        return Period(day.strftime("%Y%m%d"), "Daily", day, day)
    if ptype == "Weekly" or ptype in _WEEKLY_TYPE.values():
        pid = _weekly_id(ptype, day)
    elif ptype == "BiWeekly":
        iso = day.isocalendar()
        pid = f"{iso.year}BiW{(iso.week + 1) // 2}"
    elif ptype == "Monthly":
        pid = f"{y}{m:02d}"
    elif ptype == "BiMonthly":
        pid = f"{y}{(m + 1) // 2:02d}B"
    elif ptype == "Quarterly":
        pid = f"{y}Q{(m - 1) // 3 + 1}"
    elif ptype == "SixMonthly":
        pid = f"{y}S{1 if m <= 6 else 2}"
    elif ptype == "SixMonthlyApril":
        pid = f"{y}AprilS1" if 4 <= m <= 9 else f"{y if m >= 10 else y - 1}AprilS2"
    elif ptype.startswith("Financial"):
        suffix = ptype[len("Financial") :]
        pid = f"{y if m >= _FINANCIAL[suffix] else y - 1}{suffix}"
    elif ptype == "Yearly":
        pid = str(y)
    else:
        raise ValueError(f"unknown period type {ptype}")
    found = parse_period(pid)
    if found is None:  # the last ISO bi-week of a 53-week year has no second week
        raise ValueError(f"{day} has no {ptype} period")
    return found


def shift(period: Period, steps: int) -> Period:
    """The period `steps` periods after (or before) `period`, same type."""
    current = period
    for _ in range(abs(steps)):
        day = current.end + timedelta(days=1) if steps > 0 else current.start - timedelta(days=1)
        current = period_of_type(period.type, day)
    return current


def contained_periods(start: date, end: date, types: set[str]) -> list[Period]:
    """Every period of the given types lying entirely within [start, end]."""
    found: list[Period] = []
    for ptype in sorted(types):
        day = start
        while day <= end:
            try:
                period = period_of_type(ptype, day)
            except ValueError:
                day += timedelta(days=1)
                continue
            if period.start >= start and period.end <= end:
                found.append(period)
            day = period.end + timedelta(days=1)
    return found


def _series(ptype: str, today: date, back: int, count: int) -> list[Period]:
    current = period_of_type(ptype, today)
    return [shift(current, -back + i) for i in range(count)]


def relative_periods(name: str, today: date) -> list[Period] | None:
    """Expand a relative period (THIS_MONTH, LAST_12_MONTHS, ...) against `today`."""
    table: dict[str, tuple[str, int, int]] = {
        "TODAY": ("Daily", 0, 1),
        "YESTERDAY": ("Daily", 1, 1),
        "LAST_7_DAYS": ("Daily", 7, 7),
        "LAST_14_DAYS": ("Daily", 14, 14),
        "LAST_30_DAYS": ("Daily", 30, 30),
        "THIS_WEEK": ("Weekly", 0, 1),
        "LAST_WEEK": ("Weekly", 1, 1),
        "LAST_4_WEEKS": ("Weekly", 4, 4),
        "LAST_12_WEEKS": ("Weekly", 12, 12),
        "LAST_52_WEEKS": ("Weekly", 52, 52),
        "THIS_MONTH": ("Monthly", 0, 1),
        "LAST_MONTH": ("Monthly", 1, 1),
        "LAST_3_MONTHS": ("Monthly", 3, 3),
        "LAST_6_MONTHS": ("Monthly", 6, 6),
        "LAST_12_MONTHS": ("Monthly", 12, 12),
        "THIS_BIMONTH": ("BiMonthly", 0, 1),
        "LAST_BIMONTH": ("BiMonthly", 1, 1),
        "LAST_6_BIMONTHS": ("BiMonthly", 6, 6),
        "THIS_QUARTER": ("Quarterly", 0, 1),
        "LAST_QUARTER": ("Quarterly", 1, 1),
        "LAST_4_QUARTERS": ("Quarterly", 4, 4),
        "THIS_SIX_MONTH": ("SixMonthly", 0, 1),
        "LAST_SIX_MONTH": ("SixMonthly", 1, 1),
        "LAST_2_SIXMONTHS": ("SixMonthly", 2, 2),
        "THIS_YEAR": ("Yearly", 0, 1),
        "LAST_YEAR": ("Yearly", 1, 1),
        "LAST_5_YEARS": ("Yearly", 5, 5),
        "LAST_10_YEARS": ("Yearly", 10, 10),
        "THIS_FINANCIAL_YEAR": ("FinancialJuly", 0, 1),
        "LAST_FINANCIAL_YEAR": ("FinancialJuly", 1, 1),
    }
    if name in table:
        ptype, back, count = table[name]
        return _series(ptype, today, back, count)
    year_of = {
        "MONTHS_THIS_YEAR": ("Monthly", 12, 0),
        "QUARTERS_THIS_YEAR": ("Quarterly", 4, 0),
        "BIMONTHS_THIS_YEAR": ("BiMonthly", 6, 0),
        "MONTHS_LAST_YEAR": ("Monthly", 12, 1),
        "QUARTERS_LAST_YEAR": ("Quarterly", 4, 1),
    }
    if name in year_of:
        ptype, count, years_back = year_of[name]
        first = period_of_type(ptype, date(today.year - years_back, 1, 1))
        return [shift(first, i) for i in range(count)]
    return None
