"""Tracker reads: org unit modes, attribute filters and DHIS2's tracker paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, and_, cast, func, not_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.common.errors import bad_request
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.state import EN, EV, TE, TEAV

Obj = dict[str, Any]
ORG_UNIT_MODES = ("SELECTED", "CHILDREN", "DESCENDANTS", "ACCESSIBLE", "CAPTURE", "ALL")
NUMERIC = {
    "NUMBER",
    "INTEGER",
    "INTEGER_POSITIVE",
    "INTEGER_NEGATIVE",
    "INTEGER_ZERO_OR_POSITIVE",
    "PERCENTAGE",
    "UNIT_INTERVAL",
}
FILTER_OPS = ("eq", "ne", "gt", "ge", "lt", "le", "in", "like", "sw", "ew", "null", "!null")


@dataclass
class Page:
    page: int
    page_size: int
    total_pages: bool
    paging: bool

    @classmethod
    def parse(cls, params: Any) -> Page:
        def number(name: str, default: int) -> int:
            raw = params.get(name)
            if raw is None or raw == "":
                return default
            if not raw.isdigit() or int(raw) < 1:
                raise bad_request(f"`{name}` must be greater than or equal to 1")
            return int(raw)

        from services.sectoral_platform.common.web import parse_bool

        paging = parse_bool(params.get("paging"), True) and not parse_bool(params.get("skipPaging"))
        return cls(
            number("page", 1), number("pageSize", 50), parse_bool(params.get("totalPages")), paging
        )


def uid_list(*raw: str | None) -> list[str]:
    values: list[str] = []
    for item in raw:
        if item:
            values += [v for v in re.split(r"[;,]", item) if v]
    return values


def org_unit_condition(
    column_path: Any,
    column_ou: Any,
    *,
    scope: Scope,
    units: list[str],
    mode: str | None,
) -> ColumnElement[bool] | None:
    """DHIS2's org unit modes, each limited to what the caller may search."""
    store = scope.store
    mode = (mode or ("SELECTED" if units else "ACCESSIBLE")).upper()
    if mode not in ORG_UNIT_MODES:
        raise bad_request(f"Invalid orgUnitMode `{mode}`, expected one of {ORG_UNIT_MODES}")
    for uid in units:
        if store.get("organisationUnits", uid) is None:
            raise bad_request(f"Organisation unit does not exist: `{uid}`")
    if mode in ("SELECTED", "CHILDREN", "DESCENDANTS") and not units:
        raise bad_request(f"At least one org unit is required for orgUnitMode: {mode}")
    if mode in ("ACCESSIBLE", "CAPTURE") and units:
        raise bad_request(
            f"orgUnitMode {mode} cannot be used with orgUnits. "
            "Please remove the orgUnit parameter and try again."
        )
    if mode == "ALL":
        scope.require_search_all()
        return None
    if mode in ("ACCESSIBLE", "CAPTURE"):
        kind = Kind.CAPTURE if mode == "CAPTURE" else Kind.SEARCH
        scope.require_any(kind)
        return scope.condition(kind, column_path)
    for uid in units:
        scope.require_search(uid)
    if mode == "SELECTED":
        selected: ColumnElement[bool] = column_ou.in_(units)
        return selected
    if mode == "CHILDREN":
        children = [
            c["id"] for u in units for c in store.inverse("organisationUnits", "children", u)
        ]
        with_children: ColumnElement[bool] = column_ou.in_([*units, *children])
        return with_children
    paths = [p for p in (store.path(u) for u in units) if p]
    return or_(*[or_(column_path == p, column_path.like(p + "/%")) for p in paths])


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


def paged(engine: Engine, query: Any, order: list[Any], page: Page) -> tuple[list[Obj], Obj | None]:
    """Rows of one page and the pager (`total`/`pageCount` only with `totalPages=true`)."""
    with engine.connect() as conn:
        if not page.paging:
            return [dict(r) for r in conn.execute(query.order_by(*order)).mappings()], None
        rows = conn.execute(
            query.order_by(*order).limit(page.page_size).offset((page.page - 1) * page.page_size)
        ).mappings()
        result = [dict(r) for r in rows]
        pager: Obj = {"page": page.page, "pageSize": page.page_size}
        if page.total_pages:
            total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            pager["total"] = total
            pager["pageCount"] = max(1, -(-total // page.page_size))
    return result, pager


def enrollments_of(engine: Engine, te_uids: list[str]) -> dict[str, list[Obj]]:
    found: dict[str, list[Obj]] = {}
    if not te_uids:
        return found
    with engine.connect() as conn:
        en_rows = [
            dict(r)
            for r in conn.execute(
                select(EN).where(EN.c.te.in_(te_uids)).order_by(EN.c.enrolled_at)
            ).mappings()
        ]
        ev_rows = (
            [
                dict(r)
                for r in conn.execute(
                    select(EV)
                    .where(EV.c.enrollment.in_([e["uid"] for e in en_rows]))
                    .order_by(EV.c.occurred_at)
                ).mappings()
            ]
            if en_rows
            else []
        )
    by_enrollment: dict[str, list[Obj]] = {}
    for ev in ev_rows:
        by_enrollment.setdefault(ev["enrollment"], []).append(ev)
    for en in en_rows:
        en["events"] = by_enrollment.get(en["uid"], [])
        found.setdefault(en["te"], []).append(en)
    return found


def and_all(conditions: list[ColumnElement[bool] | None]) -> ColumnElement[bool]:
    return and_(True, *[c for c in conditions if c is not None])
