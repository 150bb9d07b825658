"""`order=`, `updatedAfter`/`updatedWithin` and event data element `filter=` of tracker reads.

Tracked entities order by fields or attributes in SQL. Event data values are a JSON list, so
data element filters and orders are applied to the events the other conditions select, in
memory, before paging (a sandbox-scale choice)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.aggregate.values import NUMERIC
from services.sectoral_platform.errors import bad_request, not_implemented
from services.sectoral_platform.tracker.bundle import instant
from services.sectoral_platform.tracker.filters import FILTER_OPS
from services.sectoral_platform.tracker.meta import TrackerMeta
from services.sectoral_platform.tracker.state import EN, EV, TE, TEAV

Obj = dict[str, Any]


def _client(table: Any, column: str) -> ColumnElement[Any]:
    """A client timestamp, read as the server's when the client gave none (as rendered)."""
    return func.coalesce(table.c[f"{column}_at_client"], table.c[column])


FIELDS = {
    "trackedEntities": {
        "createdAt": TE.c.created, "createdAtClient": _client(TE, "created"),
        "updatedAt": TE.c.updated, "updatedAtClient": _client(TE, "updated"),
        "trackedEntity": TE.c.uid, "inactive": TE.c.inactive, "orgUnit": TE.c.org_unit,
    },
    "enrollments": {
        "createdAt": EN.c.created, "createdAtClient": _client(EN, "created"),
        "updatedAt": EN.c.updated, "updatedAtClient": _client(EN, "updated"),
        "enrollment": EN.c.uid, "enrolledAt": EN.c.enrolled_at, "occurredAt": EN.c.occurred_at,
        "completedAt": EN.c.completed_at, "status": EN.c.status, "followUp": EN.c.follow_up,
        "orgUnit": EN.c.org_unit, "program": EN.c.program, "trackedEntity": EN.c.te,
    },
    "events": {
        "createdAt": EV.c.created, "createdAtClient": _client(EV, "created"),
        "updatedAt": EV.c.updated, "updatedAtClient": _client(EV, "updated"),
        "event": EV.c.uid, "occurredAt": EV.c.occurred_at, "scheduledAt": EV.c.scheduled_at,
        "completedAt": EV.c.completed_at, "status": EV.c.status, "orgUnit": EV.c.org_unit,
        "program": EV.c.program, "programStage": EV.c.program_stage,
        "enrollment": EV.c.enrollment, "trackedEntity": EV.c.te,
    },
}  # fmt: skip
# order fields DHIS2 defines that the sandbox does not keep: refused (E2038), not a 400
REFUSED_FIELDS = {
    "trackedEntities": {"createdBy", "updatedBy"},
    "enrollments": {"deleted", "createdBy", "updatedBy", "storedBy"},
    "events": {"assignedUser", "attributeOptionCombo", "createdBy", "deleted",
               "enrolledAt", "enrollmentStatus", "followUp", "storedBy", "updatedBy"},
}  # fmt: skip
UPDATED = {"trackedEntities": TE.c.updated, "enrollments": EN.c.updated, "events": EV.c.updated}


def order_items(params: Any) -> list[tuple[str, bool]]:
    """`order=a:desc,b` (repeatable) as (name, descending) pairs."""
    items: list[tuple[str, bool]] = []
    for raw in params.getlist("order"):
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            name, _, direction = part.partition(":")
            direction = (direction or "asc").lower()
            if direction not in ("asc", "desc"):
                raise bad_request(f"Invalid order direction `{direction}` for `{name}`")
            items.append((name, direction == "desc"))
    return items


def _refuse_order(kind: str, name: str, extra: str) -> Exception:
    fields = ", ".join(sorted(FIELDS[kind]))
    return bad_request(
        f"order parameter is invalid. Cannot order by '{name}'. Supported are {extra} "
        f"and fields '{fields}'."
    )


def sql_order(kind: str, params: Any, meta: TrackerMeta, default: list[Any], uid: Any) -> list[Any]:
    """ORDER BY terms: fields (and attributes for tracked entities); data elements of events
    are left to `event_rows`."""
    items = order_items(params)
    if not items:
        return default
    terms: list[Any] = []
    for name, desc in items:
        if name in REFUSED_FIELDS[kind]:
            raise not_implemented(
                f"Ordering by `{name}` is defined by DHIS2 but not implemented here"
            )
        column: Any = FIELDS[kind].get(name)
        if name == "enrolledAt" and kind == "trackedEntities":
            first = select(func.min(EN.c.enrolled_at)).where(EN.c.te == TE.c.uid)
            if params.get("program"):
                first = first.where(EN.c.program == params["program"])
            column = first.scalar_subquery()
        elif column is None and kind == "trackedEntities" and meta.attribute(name) is not None:
            info = meta.attribute(name)
            value: Any = TEAV.c.value
            if info is not None and info.value_type in NUMERIC:
                value = cast(TEAV.c.value, Float)
            column = (
                select(value)
                .where(TEAV.c.te == TE.c.uid, TEAV.c.attribute == name)
                .scalar_subquery()
            )
        elif column is None and kind == "events" and meta.element(name) is not None:
            continue
        elif column is None:
            extra = {"trackedEntities": "tracked entity attributes", "events": "data elements"}
            raise _refuse_order(kind, name, extra.get(kind, "no attributes"))
        terms.append((column.desc() if desc else column.asc()).nulls_last())
    return [*terms, uid]


def updated_conditions(kind: str, params: Any) -> list[ColumnElement[bool]]:
    column = UPDATED[kind]
    found: list[ColumnElement[bool]] = []
    after, within = params.get("updatedAfter"), params.get("updatedWithin")
    if after and within:
        raise bad_request(
            "Only one parameter of 'updatedAfter' and 'updatedWithin' can be specified."
        )
    if after:
        moment = instant(after)
        if moment is None:
            raise bad_request(f"Invalid date `{after}` for `updatedAfter`")
        found.append(column >= moment)
    if within:
        found.append(column >= dhis2_timestamp(datetime.now(UTC) - _duration(within)))
    before = params.get("updatedBefore")
    if before:
        moment = instant(before)
        if moment is None:
            raise bad_request(f"Invalid date `{before}` for `updatedBefore`")
        found.append(column <= moment)
    return found


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise bad_request(f"Duration is not valid: `{text}` (e.g. 30m, 12h, 2d)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


# ---- events: data element filters and orders, in memory ----
def element_filters(params: Any, meta: TrackerMeta) -> list[tuple[str, str, str | None, bool]]:
    """(data element, op, value, numeric) for each `filter=<de>:<op>:<value>[:<op>:<value>]`."""
    found: list[tuple[str, str, str | None, bool]] = []
    for raw in params.getlist("filter"):
        element, _, rest = raw.partition(":")
        info = meta.element(element)
        if info is None:
            raise bad_request(f"Data element does not exist: `{element}`")
        parts = rest.split(":") if rest else []
        numeric = info.value_type in NUMERIC
        index = 0
        if not parts:
            found.append((element, "!null", None, numeric))
        while index < len(parts):
            op = parts[index].lower()
            if op not in FILTER_OPS:
                raise bad_request(f"Query item operator `{op}` is not supported")
            if op in ("null", "!null"):
                found.append((element, op, None, numeric))
                index += 1
                continue
            if index + 1 >= len(parts):
                raise bad_request(f"Query item `{raw}` has no value for operator `{op}`")
            value = parts[index + 1]
            if numeric and op in ("gt", "ge", "lt", "le"):
                _float(value)
            found.append((element, op, value, numeric))
            index += 2
    return found


def has_element_items(params: Any, meta: TrackerMeta) -> bool:
    """Whether the event query filters or orders by a data element (then done in memory)."""
    ordered = False
    for name, _ in order_items(params):
        if name in REFUSED_FIELDS["events"]:
            raise not_implemented(
                f"Ordering by `{name}` is defined by DHIS2 but not implemented here"
            )
        if name not in FIELDS["events"]:
            if meta.element(name) is None:
                raise _refuse_order("events", name, "data elements")
            ordered = True
    return bool(params.getlist("filter")) or ordered


def _float(value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise bad_request(f"`{value}` is not a number") from exc


def _matches(value: str | None, op: str, operand: str | None, numeric: bool) -> bool:
    if op == "null":
        return value is None
    if op == "!null":
        return value is not None
    if value is None or operand is None:
        return False
    if numeric and op in ("gt", "ge", "lt", "le"):
        try:
            a, b = float(value), float(operand)
        except ValueError:
            return False
    else:
        a, b = value.lower(), operand.lower()  # type: ignore[assignment]
    if op == "in":
        return value.lower() in [v.lower() for v in operand.split(";")]
    results = {
        "eq": lambda: a == b, "ne": lambda: a != b, "gt": lambda: a > b, "ge": lambda: a >= b,
        "lt": lambda: a < b, "le": lambda: a <= b, "like": lambda: str(b) in str(a),
        "sw": lambda: str(a).startswith(str(b)), "ew": lambda: str(a).endswith(str(b)),
    }  # fmt: skip
    return bool(results[op]())


def event_rows(rows: list[Obj], params: Any, meta: TrackerMeta) -> list[Obj]:
    """Rows kept by the data element filters, sorted by every order item (fields and data
    elements; values missing last)."""
    filters = element_filters(params, meta)

    def values(row: Obj) -> dict[str, str]:
        return {v["dataElement"]: v["value"] for v in row["data_values"]}

    kept = [
        r
        for r in rows
        if all(_matches(values(r).get(de), op, val, num) for de, op, val, num in filters)
    ]
    for name, desc in reversed(order_items(params)):
        column = FIELDS["events"].get(name)
        info = None if column is not None else meta.element(name)
        numeric = info is not None and info.value_type in NUMERIC

        def get(row: Obj, name: str = name, column: Any = column, numeric: bool = numeric) -> Any:
            raw = row[column.name] if column is not None else values(row).get(name)
            if raw is None or not numeric:
                return raw
            try:
                return float(raw)
            except ValueError:
                return None

        present = [r for r in kept if get(r) is not None]
        absent = [r for r in kept if get(r) is None]
        kept = sorted(present, key=get, reverse=desc) + absent
    return kept
