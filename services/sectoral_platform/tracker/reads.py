"""Tracker reads: the queries behind `/api/tracker` lists and items, org unit modes and DHIS2's
tracker paging."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, exists, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from services.sectoral_platform.auth.scope import Kind, Scope
from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.tracker.filters import attribute_filters
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.ordering import (
    event_rows,
    has_element_items,
    sql_order,
    updated_conditions,
)
from services.sectoral_platform.tracker.state import EN, EV, TE

Obj = dict[str, Any]
ORG_UNIT_MODES = ("SELECTED", "CHILDREN", "DESCENDANTS", "ACCESSIBLE", "CAPTURE", "ALL")


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

        from services.sectoral_platform.dhis2.web import parse_bool

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


def _units(params: Any, *names: str) -> list[str]:
    return uid_list(*(unit for name in names for unit in params.getlist(name)))


def _mode(params: Any) -> str | None:
    mode: str | None = params.get("orgUnitMode") or params.get("ouMode")
    return mode


def tracked_entity_page(
    engine: Engine, *, params: Any, meta: TrackerMeta, scope: Scope
) -> tuple[list[Obj], Obj | None]:
    """One page of the tracked entities the list parameters (checked by the route) select."""
    program, tet = params.get("program"), params.get("trackedEntityType")
    wanted = uid_list(params.get("trackedEntities"), params.get("trackedEntity"))
    units = _units(params, "orgUnits", "orgUnit")
    conditions = [
        org_unit_condition(
            TE.c.ou_path, TE.c.org_unit, scope=scope, units=units, mode=_mode(params)
        ),
        TE.c.tracked_entity_type == tet if tet else None,
        # EXISTS, not IN: SQLite would otherwise walk every enrollment of the program
        exists().where(EN.c.te == TE.c.uid, EN.c.program == program) if program else None,
        TE.c.uid.in_(wanted) if wanted else None,
        *attribute_filters(params.getlist("filter"), meta),
        *updated_conditions("trackedEntities", params),
    ]
    query = select(TE).where(and_all(conditions))
    order = sql_order("trackedEntities", params, meta, [TE.c.created, TE.c.uid], TE.c.uid)
    return paged(engine, query, order, Page.parse(params))


def enrollment_page(
    engine: Engine, *, params: Any, meta: TrackerMeta, scope: Scope
) -> tuple[list[Obj], Obj | None]:
    """One page of the enrollments the list parameters select."""
    units = _units(params, "orgUnits", "orgUnit")
    wanted = uid_list(params.get("enrollments"))
    status = params.get("status") or params.get("programStatus")
    conditions = [
        org_unit_condition(
            EN.c.ou_path, EN.c.org_unit, scope=scope, units=units, mode=_mode(params)
        ),
        EN.c.program == params["program"] if params.get("program") else None,
        EN.c.te == params["trackedEntity"] if params.get("trackedEntity") else None,
        EN.c.status == status.upper() if status else None,
        EN.c.uid.in_(wanted) if wanted else None,
        *updated_conditions("enrollments", params),
    ]
    query = select(EN).where(and_all(conditions))
    order = sql_order("enrollments", params, meta, [EN.c.created, EN.c.uid], EN.c.uid)
    return paged(engine, query, order, Page.parse(params))


def event_page(
    engine: Engine, *, params: Any, meta: TrackerMeta, scope: Scope
) -> tuple[list[Obj], Obj | None]:
    """One page of the events the list parameters select."""
    q = params
    units = _units(q, "orgUnit", "orgUnits")
    wanted = uid_list(q.get("events"), q.get("event"))
    enrollments = uid_list(q.get("enrollments"), q.get("enrollment"))
    conditions = [
        org_unit_condition(EV.c.ou_path, EV.c.org_unit, scope=scope, units=units, mode=_mode(q)),
        EV.c.program == q["program"] if q.get("program") else None,
        EV.c.program_stage == q["programStage"] if q.get("programStage") else None,
        EV.c.te == q["trackedEntity"] if q.get("trackedEntity") else None,
        EV.c.status == q["status"].upper() if q.get("status") else None,
        EV.c.occurred_at >= q["occurredAfter"] if q.get("occurredAfter") else None,
        EV.c.occurred_at <= q["occurredBefore"] + "T23:59:59.999"
        if q.get("occurredBefore") and len(q["occurredBefore"]) == 10
        else (EV.c.occurred_at <= q["occurredBefore"] if q.get("occurredBefore") else None),
        EV.c.enrollment.in_(enrollments) if enrollments else None,
        EV.c.uid.in_(wanted) if wanted else None,
        *updated_conditions("events", q),
    ]
    query = select(EV).where(and_all(conditions))
    default = [EV.c.occurred_at, EV.c.uid]
    page = Page.parse(q)
    if not has_element_items(q, meta):
        return paged(engine, query, sql_order("events", q, meta, default, EV.c.uid), page)
    with engine.connect() as conn:
        rows = event_rows(
            [dict(r) for r in conn.execute(query.order_by(*default)).mappings()], q, meta
        )
    if not page.paging:
        return rows, None
    start = (page.page - 1) * page.page_size
    pager: Obj = {"page": page.page, "pageSize": page.page_size}
    if page.total_pages:
        pager["total"] = len(rows)
        pager["pageCount"] = max(1, -(-len(rows) // page.page_size))
    return rows[start : start + page.page_size], pager


def _one(engine: Engine, table: Table, uid: str) -> Obj | None:
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.uid == uid)).mappings().first()
    return None if row is None else dict(row)


def tracked_entity(engine: Engine, uid: str) -> Obj | None:
    return _one(engine, TE, uid)


def enrollment(engine: Engine, uid: str) -> Obj | None:
    return _one(engine, EN, uid)


def event(engine: Engine, uid: str) -> Obj | None:
    return _one(engine, EV, uid)


def events_of_enrollment(engine: Engine, uid: str) -> list[Obj]:
    with engine.connect() as conn:
        rows = conn.execute(select(EV).where(EV.c.enrollment == uid)).mappings().all()
    return [dict(r) for r in rows]
