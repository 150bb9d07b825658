"""Small-cell suppression of one publication's counts.

Cells are grouped by what a published total adds up (a data element and period under one parent
org unit). The rules, per group:

- primary: a count c with 0 < c < threshold is withheld; zeros are published;
- a total below the threshold (and above 0) is withheld like any other small count;
- complementary: if the total is published and the withheld cells all hold the same value (in
  particular when only one is withheld), the total minus the published cells would give it away,
  so the smallest published non-zero cells (every one of them, if several tie) are withheld too;
  if there is none, the total is withheld instead.

Every withheld cell then shares its group with a withheld cell of another value, or the group's
total is withheld. The rules look only at values, never at which unit holds them, so swapping
two withheld values gives the same publication: someone who knows the rules, the threshold and
every published figure still finds at least two values for each withheld cell.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

MIN_THRESHOLD = 3
K = TypeVar("K", bound=Hashable)


def rule(threshold: int) -> str:
    return (
        f"Counts from 1 to {threshold - 1} are withheld (value null, suppressed true); zeros "
        f"are published. A total from 1 to {threshold - 1} is withheld. Where a published "
        "total would reveal withheld counts (they all have the same value, or only one is "
        "withheld), the smallest published non-zero counts of the group are withheld too, or "
        "the total when there is none."
    )


def is_small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


@dataclass(frozen=True)
class GroupOutcome(Generic[K]):
    withheld: frozenset[K]
    total: int
    total_withheld: bool


def suppress_group(cells: Mapping[K, int], threshold: int, *, with_total: bool) -> GroupOutcome[K]:
    """Which cells of one group are withheld, and whether its total is."""
    withheld = {key for key, value in cells.items() if is_small(value, threshold)}
    total = sum(cells.values())
    if not with_total:
        return GroupOutcome(frozenset(withheld), total, False)
    if is_small(total, threshold):
        return GroupOutcome(frozenset(withheld), total, True)
    if len({cells[key] for key in withheld}) == 1:
        published = [v for key, v in cells.items() if key not in withheld and v > 0]
        if not published:
            return GroupOutcome(frozenset(withheld), total, True)
        smallest = min(published)
        withheld |= {key for key, value in cells.items() if value == smallest}
    return GroupOutcome(frozenset(withheld), total, False)
