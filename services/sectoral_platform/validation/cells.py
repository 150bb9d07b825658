"""Data values summed per (org unit, period, attribute option combo) for expression evaluation:
one range read of the stored values, then each row added to every target unit above it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import and_, select
from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.models import DataValue
from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.base import table_of
from services.sectoral_platform.metadata.store import MetadataStore

T = table_of(DataValue)
SEGMENT = 12  # "/" + an 11-character uid per level of a path

Values = dict[tuple[str, str | None], float]
# (unit path, period id, attribute option combo) -> (de, coc or None for the total) -> sum
Cells = dict[tuple[str, str, str], Values]


def subtree(store: MetadataStore, root: str) -> list[tuple[str, str]]:
    """(uid, path) of the unit and every unit below it."""
    top = store.path(root)
    if top is None:
        return []
    paths = store.indexes.paths
    return [(uid, path) for uid, path in paths.items() if path.startswith(top)]


def _successor(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def collect(
    engine: Engine,
    *,
    elements: Iterable[str],
    periods: list[Period],
    targets: set[str],
    within: str | None,
    descendants: bool = True,
) -> Cells:
    """Sums for every target unit path and every given period containing a stored value's
    period; with `descendants`, a unit's sum covers its whole subtree."""
    cells: Cells = defaultdict(lambda: defaultdict(float))
    des = sorted(set(elements))
    if not des or not periods or not targets:
        return cells
    start = min(p.start for p in periods).isoformat()
    end = max(p.end for p in periods).isoformat()
    where = [T.c.de.in_(des), T.c.pe_start >= start, T.c.pe_end <= end, T.c.num.is_not(None)]
    if within:
        where += [T.c.ou_path >= within, T.c.ou_path < _successor(within)]
    bounds = [(p.start.isoformat(), p.end.isoformat(), p.id) for p in periods]
    containing: dict[tuple[str, str], list[str]] = {}
    above: dict[str, list[str]] = {}
    stmt = select(T.c.de, T.c.co, T.c.ao, T.c.pe_start, T.c.pe_end, T.c.ou_path, T.c.num).where(
        and_(*where)
    )
    with engine.connect() as conn:
        for de, co, ao, s, e, path, num in conn.execute(stmt).all():
            span = (s, e)
            pids = containing.get(span)
            if pids is None:
                pids = [pid for ps, pe, pid in bounds if ps <= s and e <= pe]
                containing[span] = pids
            if not pids:
                continue
            units = above.get(path)
            if units is None:
                chain = range(SEGMENT, len(path) + 1, SEGMENT) if descendants else [len(path)]
                units = [path[:n] for n in chain if path[:n] in targets]
                above[path] = units
            for unit in units:
                for pid in pids:
                    bucket = cells[(unit, pid, ao)]
                    bucket[(de, co)] += num
                    bucket[(de, None)] += num
    return cells


def combos_by_place(cells: Cells) -> dict[tuple[str, str], list[str]]:
    """Attribute option combos with data, per (unit path, period id)."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for unit, pid, ao in cells:
        found[(unit, pid)].append(ao)
    return found


def constant_values(store: MetadataStore) -> dict[str, float]:
    return {
        uid: float(obj["value"])
        for uid, obj in store.objects.get("constants", {}).items()
        if isinstance(obj.get("value"), (int, float))
    }


def stored(engine: Engine, de: str, periods: Iterable[str]) -> dict[tuple[str, str, str, str], str]:
    """(period, unit, combo, attribute combo) -> stored value of one data element."""
    pes = sorted(set(periods))
    if not pes:
        return {}
    stmt = select(T.c.pe, T.c.ou, T.c.co, T.c.ao, T.c.value).where(
        and_(T.c.de == de, T.c.pe.in_(pes))
    )
    with engine.connect() as conn:
        return {(pe, ou, co, ao): value for pe, ou, co, ao, value in conn.execute(stmt).all()}
