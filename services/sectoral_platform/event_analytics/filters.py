"""DHIS2's item filter operators on stored values (case-insensitive; `NV` is "no value")."""

from __future__ import annotations

from services.sectoral_platform.event_analytics.items import NUMERIC, Item


def _num(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _compare(item: Item, value: str, target: str) -> int | None:
    """-1, 0 or 1 comparing value to target (numbers numerically, else text), None if unlike."""
    if item.value_type in NUMERIC:
        a, b = _num(value), _num(target)
        if a is None or b is None:
            return None
        return (a > b) - (a < b)
    if item.value_type in ("BOOLEAN", "TRUE_ONLY"):
        value = {"true": "1", "false": "0"}.get(value.lower(), value)
    left, right = value.lower(), target.lower()
    return (left > right) - (left < right)


def matches(item: Item, raw: str | None) -> bool:
    """Whether a stored value (None: missing) passes every filter of the item."""
    return all(_passes(item, op, target, raw) for op, target in item.filters)


def _passes(item: Item, op: str, target: str, raw: str | None) -> bool:
    if op == "IN":
        options = target.split(";")
        if raw is None:
            return "NV" in options
        return any(t != "NV" and _compare(item, raw, t) == 0 for t in options)
    if target == "NV" and op in ("EQ", "NE"):
        return (raw is None) == (op == "EQ")
    if raw is None:
        return op == "NE"
    if op == "LIKE":
        return target.lower() in raw.lower()
    order = _compare(item, raw, target)
    if order is None:
        return op == "NE"
    return {
        "EQ": order == 0, "NE": order != 0, "GT": order > 0, "GE": order >= 0,
        "LT": order < 0, "LE": order <= 0,
    }[op]  # fmt: skip
