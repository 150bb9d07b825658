"""Tracker attribute filters (`filter=<attr>:<op>:<value>`) as conditions on tracked entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from services.sectoral_platform.aggregate.values import NUMERIC
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.state import TE, TEAV

FILTER_OPS = ("eq", "ne", "gt", "ge", "lt", "le", "in", "like", "sw", "ew", "null", "!null")


def attribute_filters(raw_filters: list[str], meta: TrackerMeta) -> list[ColumnElement[bool]]:
    """`filter=<attr>:<op>:<value>[:<op>:<value>]`, case-insensitive, as tracked entity ids."""
    conditions: list[ColumnElement[bool]] = []
    for raw in raw_filters:
        attr, _, rest = raw.partition(":")
        info = meta.attribute(attr)
        if info is None:
            raise bad_request(f"Attribute does not exist: `{attr}`")
        parts = rest.split(":") if rest else []
        if not parts:
            conditions.append(TE.c.uid.in_(select(TEAV.c.te).where(TEAV.c.attribute == attr)))
            continue
        index = 0
        while index < len(parts):
            op = parts[index].lower()
            if op not in FILTER_OPS:
                raise bad_request(f"Query item operator `{op}` is not supported")
            owned = select(TEAV.c.te).where(TEAV.c.attribute == attr)
            if op in ("null", "!null"):
                has = TE.c.uid.in_(owned)
                conditions.append(has if op == "!null" else not_(has))
                index += 1
                continue
            if index + 1 >= len(parts):
                raise bad_request(f"Query item `{raw}` has no value for operator `{op}`")
            value = parts[index + 1]
            numeric = info.value_type in NUMERIC and op in ("gt", "ge", "lt", "le")
            column: Any = cast(TEAV.c.value, Float) if numeric else func.lower(TEAV.c.value)
            operand: Any = _number(value) if numeric else value.lower()
            cond = _compare(op, column, operand, value)
            conditions.append(TE.c.uid.in_(owned.where(cond)))
            index += 2
    return conditions


def _compare(op: str, column: Any, operand: Any, value: str) -> ColumnElement[bool]:
    result: ColumnElement[bool]
    if op == "eq":
        result = column == operand
    elif op == "ne":
        result = column != operand
    elif op == "gt":
        result = column > operand
    elif op == "ge":
        result = column >= operand
    elif op == "lt":
        result = column < operand
    elif op == "le":
        result = column <= operand
    elif op == "in":
        result = column.in_([v.lower() for v in value.split(";")])
    elif op == "like":
        result = column.like(f"%{operand}%")
    elif op == "sw":
        result = column.like(f"{operand}%")
    else:
        result = column.like(f"%{operand}")
    return result


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise bad_request(f"`{value}` is not a number") from exc
