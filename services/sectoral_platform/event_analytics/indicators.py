"""Program indicators computed from current tracker data: the filter picks the events (EVENT) or
enrollments (ENROLLMENT), the expression gives each a value, the aggregation type combines them.

A missing numeric value counts as 0 in the expression and as missing in the filter (DHIS2's
rule); a row whose expression operands are all missing is skipped (as indicators skip when all
values are missing). `V{event_count}`, `V{enrollment_count}` and `V{tei_count}` alone count
distinct events, enrollments and tracked entities; inside a larger expression each row is 1."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.dhis2.program_expression import (
    Node,
    Row,
    evaluate,
    parse,
    references,
)
from services.sectoral_platform.event_analytics import reads
from services.sectoral_platform.metadata.store import MetadataStore

Obj = dict[str, Any]
_DISTINCT = {"event_count": "event", "enrollment_count": "enrollment", "tei_count": "te"}


def _event_row(event: Obj, attrs: dict[str, str]) -> Row:
    def values(stage: str, de: str) -> str | None:
        if event["program_stage"] != stage:
            return None
        return _value(event, de)

    return Row(values, attrs.get)


def _enrollment_row(events: list[Obj], attrs: dict[str, str]) -> Row:
    def values(stage: str, de: str) -> str | None:
        of_stage = [e for e in events if e["program_stage"] == stage]
        return _value(of_stage[-1], de) if of_stage else None

    return Row(values, attrs.get)


def _value(event: Obj, de: str) -> str | None:
    for dv in event["data_values"]:
        if dv.get("dataElement") == de and dv.get("value") is not None:
            return str(dv["value"])
    return None


def _attribute_uids(trees: Iterable[Node | None]) -> list[str]:
    return sorted({r[1] for t in trees if t is not None for r in references(t) if r[0] == "attr"})


def value(
    engine: Engine, store: MetadataStore, uid: str, periods: list[Period], units: list[str]
) -> float | None:
    """The indicator over the periods (by event or enrollment date) and under the units."""
    pi = store.get("programIndicators", uid)
    if pi is None or not periods or not units:
        return None
    program = str((pi.get("program") or {}).get("id"))
    expression = parse(str(pi.get("expression") or "0"))
    condition = parse(str(pi["filter"])) if pi.get("filter") else None
    ranges = [(p.start.isoformat(), p.end.isoformat()) for p in periods]
    paths = {p: u for u in units if (p := store.path(u)) is not None}
    wanted = _attribute_uids([expression, condition])
    rows: list[tuple[Row, dict[str, str | None]]] = []
    with engine.connect() as conn:
        if pi.get("analyticsType") == "ENROLLMENT":
            found = reads.enrollments(
                conn, program=program, ranges=ranges, paths=paths, mode="DESCENDANTS", statuses=[]
            )
            events = reads.events_of(conn, [e["uid"] for e in found])
            attrs = reads.attributes(conn, {e["te"] for e in found}, wanted)
            for en in found:
                keys = {"event": None, "enrollment": en["uid"], "te": en["te"]}
                rows.append(
                    (_enrollment_row(events.get(en["uid"], []), attrs.get(en["te"], {})), keys)
                )
        else:
            found = reads.events(
                conn, program=program, stage=None, ranges=ranges, paths=paths,
                mode="DESCENDANTS", statuses=[],
            )  # fmt: skip
            attrs = reads.attributes(conn, {e["te"] for e in found if e["te"]}, wanted)
            for ev in found:
                keys = {"event": ev["uid"], "enrollment": ev["enrollment"], "te": ev["te"]}
                rows.append((_event_row(ev, attrs.get(ev["te"] or "", {})), keys))
    chosen = [
        (row, keys)
        for row, keys in rows
        if condition is None or _truthy(evaluate(condition, row, zero_missing=False))
    ]
    if expression[0] == "var":
        key = _DISTINCT[expression[1]]
        distinct = len({keys[key] for _, keys in chosen if keys[key] is not None})
        return float(distinct) if distinct else None  # no row where nothing was counted
    operands = [r for r in references(expression) if r[0] != "var"]
    numbers = [
        evaluate(expression, row, zero_missing=True)
        for row, _ in chosen
        if not operands or any(_present(row, r) for r in operands)
    ]
    present = [n for n in numbers if isinstance(n, float)]
    return _aggregate(present, str(pi.get("aggregationType") or "AVERAGE"))


def _present(row: Row, ref: Node) -> bool:
    return (row.values(ref[1], ref[2]) if ref[0] == "de" else row.attributes(ref[1])) is not None


def _truthy(result: Any) -> bool:
    return bool(result) if not isinstance(result, float) else result != 0


def _aggregate(values: list[float], aggregation: str) -> float | None:
    if not values:
        return None
    if aggregation == "COUNT":
        return float(len(values))
    if aggregation == "SUM":
        return sum(values)
    if aggregation == "MIN":
        return min(values)
    if aggregation == "MAX":
        return max(values)
    return sum(values) / len(values)
