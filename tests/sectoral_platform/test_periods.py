"""Every period type: parsing, bounds, validation, names, and relative periods."""

import itertools
from datetime import date

import pytest

from services.sectoral_platform.aggregate.periods import parse_period, relative_periods

D = date


@pytest.mark.parametrize(
    ("pid", "ptype", "start", "end"),
    [
        ("20040315", "Daily", D(2004, 3, 15), D(2004, 3, 15)),
        ("2004W10", "Weekly", D(2004, 3, 1), D(2004, 3, 7)),
        ("2004W1", "Weekly", D(2003, 12, 29), D(2004, 1, 4)),
        ("2020W53", "Weekly", D(2020, 12, 28), D(2021, 1, 3)),
        ("2004WedW5", "WeeklyWednesday", D(2004, 1, 28), D(2004, 2, 3)),
        ("2004ThuW1", "WeeklyThursday", D(2004, 1, 1), D(2004, 1, 7)),
        ("2004SatW1", "WeeklySaturday", D(2004, 1, 3), D(2004, 1, 9)),
        ("2004SunW1", "WeeklySunday", D(2004, 1, 4), D(2004, 1, 10)),
        ("2004BiW1", "BiWeekly", D(2003, 12, 29), D(2004, 1, 11)),
        ("200403", "Monthly", D(2004, 3, 1), D(2004, 3, 31)),
        ("200402", "Monthly", D(2004, 2, 1), D(2004, 2, 29)),
        ("200401B", "BiMonthly", D(2004, 1, 1), D(2004, 2, 29)),
        ("2004Q1", "Quarterly", D(2004, 1, 1), D(2004, 3, 31)),
        ("2004Q4", "Quarterly", D(2004, 10, 1), D(2004, 12, 31)),
        ("2004S1", "SixMonthly", D(2004, 1, 1), D(2004, 6, 30)),
        ("2004S2", "SixMonthly", D(2004, 7, 1), D(2004, 12, 31)),
        ("2004AprilS1", "SixMonthlyApril", D(2004, 4, 1), D(2004, 9, 30)),
        ("2004AprilS2", "SixMonthlyApril", D(2004, 10, 1), D(2005, 3, 31)),
        ("2004", "Yearly", D(2004, 1, 1), D(2004, 12, 31)),
        ("2004April", "FinancialApril", D(2004, 4, 1), D(2005, 3, 31)),
        ("2004July", "FinancialJuly", D(2004, 7, 1), D(2005, 6, 30)),
        ("2004Oct", "FinancialOct", D(2004, 10, 1), D(2005, 9, 30)),
        ("2004Nov", "FinancialNov", D(2004, 11, 1), D(2005, 10, 31)),
    ],
)
def test_every_period_type_parses(pid: str, ptype: str, start: date, end: date) -> None:
    period = parse_period(pid)
    assert period is not None
    assert (period.type, period.start, period.end) == (ptype, start, end)


@pytest.mark.parametrize(
    "pid",
    [
        "",
        "2004W0",
        "2004W54",
        "2021W53",
        "200413",
        "200400",
        "20040230",
        "2004Q5",
        "2004Q0",
        "2004S3",
        "200407B",
        "2004AprilS3",
        "2004March",
        "04",
        "2004-1",
        "abc",
        "2004BiW27",
        "2004MonW1",
        "0999",
    ],
)
def test_invalid_period_ids_are_rejected(pid: str) -> None:
    assert parse_period(pid) is None


def test_period_names_as_dhis2_shows_them() -> None:
    names = {pid: parse_period(pid).name for pid in ("200403", "2004Q1", "2004", "20040315")}  # type: ignore[union-attr]
    assert names == {
        "200403": "March 2004",
        "2004Q1": "January - March 2004",
        "2004": "2004",
        "20040315": "2004-03-15",
    }


def test_containment_months_in_quarters_and_years() -> None:
    quarter, year = parse_period("2024Q2"), parse_period("2024")
    assert quarter is not None and year is not None
    months = [parse_period(f"2024{m:02d}") for m in range(1, 13)]
    assert [m.id for m in months if m and quarter.contains(m)] == ["202404", "202405", "202406"]
    assert all(m is not None and year.contains(m) for m in months)


TODAY = D(2026, 3, 15)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("THIS_MONTH", ["202603"]),
        ("LAST_MONTH", ["202602"]),
        ("LAST_3_MONTHS", ["202512", "202601", "202602"]),
        ("LAST_12_MONTHS", [f"2025{m:02d}" for m in range(3, 13)] + ["202601", "202602"]),
        ("THIS_QUARTER", ["2026Q1"]),
        ("LAST_4_QUARTERS", ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]),
        ("THIS_YEAR", ["2026"]),
        ("LAST_YEAR", ["2025"]),
        ("LAST_5_YEARS", ["2021", "2022", "2023", "2024", "2025"]),
        ("MONTHS_THIS_YEAR", [f"2026{m:02d}" for m in range(1, 13)]),
        ("QUARTERS_THIS_YEAR", ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]),
    ],
)
def test_relative_periods(name: str, expected: list[str]) -> None:
    found = relative_periods(name, TODAY)
    assert found is not None and [p.id for p in found] == expected


def test_last_52_weeks() -> None:
    weeks = relative_periods("LAST_52_WEEKS", TODAY)
    assert weeks is not None and len(weeks) == 52
    assert weeks[-1].id == "2026W10" and weeks[0].id == "2025W11"
    assert all(
        b.start == a.end.fromordinal(a.end.toordinal() + 1) for a, b in itertools.pairwise(weeks)
    )
    assert relative_periods("NOT_A_PERIOD", TODAY) is None
