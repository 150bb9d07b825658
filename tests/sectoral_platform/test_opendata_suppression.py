"""Small-cell suppression: the rules, and that no withheld count can be worked out.

"Worked out" is judged as an informed intruder would: knowing the rules, the threshold and
everything published, they list every table that would have produced the same publication; a
withheld cell is safe when those tables give it at least two different values.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from services.sectoral_platform.opendata.suppression import rule, suppress_group

View = tuple[tuple[int | None, ...], int | None]


def view(cells: list[int], threshold: int, with_total: bool) -> View:
    """What the publication shows of one group: cell values (None withheld), and the total."""
    outcome = suppress_group(dict(enumerate(cells)), threshold, with_total=with_total)
    shown = tuple(None if i in outcome.withheld else v for i, v in enumerate(cells))
    total = outcome.total if with_total and not outcome.total_withheld else None
    return shown, total


def consistent_tables(
    cells: list[int], threshold: int, with_total: bool, top: int
) -> Iterator[list[int]]:
    """Every table (withheld cells from 0 to `top`) that gives the same publication."""
    shown, total = view(cells, threshold, with_total)
    hidden = [i for i, v in enumerate(shown) if v is None]
    known = sum(v for v in shown if v is not None)
    for guess in product(range(top + 1), repeat=len(hidden)):
        if total is not None and known + sum(guess) != total:
            continue
        candidate = list(cells)
        for i, value in zip(hidden, guess, strict=True):
            candidate[i] = value
        if view(candidate, threshold, with_total) == (shown, total):
            yield candidate


def withheld(cells: list[int], threshold: int = 5, with_total: bool = True) -> list[int]:
    shown, _ = view(cells, threshold, with_total)
    return [i for i, v in enumerate(shown) if v is None]


def test_primary_suppression_around_the_threshold() -> None:
    assert view([0, 1, 4, 5, 6], 5, False) == ((0, None, None, 5, 6), None)
    assert view([2, 3], 3, False) == ((None, 3), None)
    assert view([9, 10], 10, False) == ((None, 10), None)


def test_zeros_are_published_and_a_total_of_zero_too() -> None:
    assert view([0, 0, 0], 5, True) == ((0, 0, 0), 0)


def test_a_total_over_one_withheld_cell_withholds_the_next_smallest_non_zero_cell() -> None:
    assert view([3, 0, 12, 40], 5, True) == ((None, 0, None, 40), 55)


def test_tied_smallest_cells_are_all_withheld() -> None:
    assert withheld([3, 12, 12, 40]) == [0, 1, 2]


def test_withheld_cells_of_one_value_are_protected_like_a_single_one() -> None:
    # 1 + 1 from a published total of 22 minus 20 would be certain
    assert view([1, 1, 20], 5, True) == ((None, None, None), 22)
    assert view([1, 2, 20], 5, True) == ((None, None, 20), 23)


def test_without_a_complementary_cell_the_total_is_withheld() -> None:
    assert view([3, 0], 5, True) == ((None, 0), None)
    assert view([3, 3, 0], 5, True) == ((None, None, 0), None)


def test_a_small_total_is_withheld() -> None:
    assert view([1, 2], 5, True) == ((None, None), None)


def test_without_totals_only_small_counts_are_withheld() -> None:
    assert view([3, 12, 40], 5, False) == ((None, 12, 40), None)


def test_the_rule_names_the_range_withheld() -> None:
    assert "Counts from 1 to 4 are withheld" in rule(5)


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=4),
    threshold=st.integers(min_value=3, max_value=6),
    with_total=st.booleans(),
)
def test_no_small_count_is_published_and_no_withheld_count_can_be_worked_out(
    cells: list[int], threshold: int, with_total: bool
) -> None:
    shown, total = view(cells, threshold, with_total)
    assert all(v is None or v == 0 or v >= threshold for v in shown)
    assert total is None or total == 0 or total >= threshold
    if total is not None:
        assert total == sum(cells)
    hidden = [i for i, v in enumerate(shown) if v is None]
    assert all(cells[i] > 0 for i in hidden)
    if not hidden:
        return
    tables = list(consistent_tables(cells, threshold, with_total, top=12))
    assert cells in tables
    for i in hidden:
        possible = {table[i] for table in tables}
        assert len(possible) >= 2, (cells, threshold, with_total, i, possible)
