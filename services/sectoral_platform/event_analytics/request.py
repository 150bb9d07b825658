"""Parsing event and enrollment analytics requests the way DHIS2 does (409 with E72xx codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.analytics.pe import add_periods
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.dhis2.web import parse_bool
from services.sectoral_platform.errors import conflict, not_implemented
from services.sectoral_platform.event_analytics.items import NUMERIC, Item, parse_item
from services.sectoral_platform.metadata.store import MetadataStore

OU_MODES = ("DESCENDANTS", "CHILDREN", "SELECTED")
VALUE_AGGREGATIONS = ("SUM", "AVERAGE", "COUNT", "MIN", "MAX")
EVENT_STATUSES = ("ACTIVE", "COMPLETED", "SCHEDULE", "OVERDUE", "SKIPPED")
PROGRAM_STATUSES = ("ACTIVE", "COMPLETED", "CANCELLED")


@dataclass
class EventRequest:
    program: dict[str, Any]
    stage: str | None
    items: list[Item] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    relative: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    pe_filter: bool = False
    units: list[str] = field(default_factory=list)
    ou_filter: bool = False
    ou_mode: str = "DESCENDANTS"
    page: int = 1
    page_size: int = 50
    paging: bool = True
    total_pages: bool = True
    event_status: list[str] = field(default_factory=list)
    program_status: list[str] = field(default_factory=list)
    value: Item | None = None
    aggregation: str | None = None

    @property
    def ranges(self) -> list[tuple[str, str]]:
        """Inclusive date ranges (YYYY-MM-DD) the events must fall in."""
        if self.periods:
            return [(p.start.isoformat(), p.end.isoformat()) for p in self.periods]
        return [(self.start or "", self.end or "")]


def parse_request(
    *,
    store: MetadataStore,
    scope: Scope,
    program_uid: str,
    params: QueryParams,
    today: date,
    enrollment: bool = False,
) -> EventRequest:
    program = store.get("programs", program_uid)
    if program is None:
        raise conflict(f"Program is specified but does not exist: `{program_uid}`", "E7129")
    stage = params.get("stage") or None
    if stage is not None:
        found = store.get("programStages", stage)
        if found is None or (found.get("program") or {}).get("id") != program_uid:
            raise conflict(f"Program stage is specified but does not exist: `{stage}`", "E7130")
    req = EventRequest(program=program, stage=stage)
    seen: set[str] = set()
    for raw, is_filter in [(d, False) for d in params.getlist("dimension")] + [
        (f, True) for f in params.getlist("filter")
    ]:
        name, _, items = raw.partition(":")
        if name in ("pe", "ou"):
            if name in seen:
                raise conflict(f"Dimensions cannot be specified more than once: `{name}`", "E7201")
            seen.add(name)
            values = [i for i in items.split(";") if i]
            if name == "pe":
                add_periods(values, today, relative=req.relative, periods=req.periods)
                req.pe_filter = is_filter
            else:
                req.units = _units(store, scope, values)
                req.ou_filter = is_filter
            continue
        item = parse_item(
            store, req.program, req.stage, raw, is_filter=is_filter, enrollment=enrollment
        )
        same = next((i for i in req.items if i.key == item.key), None)
        if same is None:
            req.items.append(item)
        elif same.is_filter != is_filter or not item.filters:
            raise conflict(f"Query items cannot be specified more than once: `{item.key}`", "E7202")
        else:  # `X:GT:2000` and `X:LT:4000` in two parameters: both conditions apply
            same.filters += item.filters
    req.start, req.end = params.get("startDate"), params.get("endDate")
    for label, value in (("startDate", req.start), ("endDate", req.end)):
        if value is not None and (len(value) != 10 or _date(value) is None):
            raise conflict(f"Invalid {label}: `{value}`", "E7205")
    if not req.periods and not (req.start and req.end):
        raise conflict("Start and end date or at least one period must be specified", "E7205")
    if req.start and req.end and req.start > req.end:
        raise conflict(f"Start date is after end date: `{req.start}`, `{req.end}`", "E7206")
    if not req.units:
        raise conflict("At least one organisation unit must be specified", "E7200")
    mode = (params.get("ouMode") or "DESCENDANTS").upper()
    if mode not in OU_MODES:
        raise conflict(f"Invalid ouMode: `{mode}`", "E7222")
    req.ou_mode = mode
    _paging(req, params)
    req.event_status = _statuses(params.get("eventStatus"), EVENT_STATUSES, "eventStatus")
    req.program_status = _statuses(params.get("programStatus"), PROGRAM_STATUSES, "programStatus")
    _value(store, req, params)
    return req


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _units(store: MetadataStore, scope: Scope, values: list[str]) -> list[str]:
    units: list[str] = []
    roots = scope.view_roots_or_top()
    for value in values:
        if value == "USER_ORGUNIT":
            units += roots
        elif value == "USER_ORGUNIT_CHILDREN":
            units += [
                c["id"] for r in roots for c in store.inverse("organisationUnits", "children", r)
            ]
        elif value.startswith("LEVEL-") and value[6:].isdigit():
            level = int(value[6:])
            units += [u for r in roots for u in store.descendants(r) if store.level(u) == level]
        elif store.get("organisationUnits", value) is not None:
            units.append(value)
        else:
            raise conflict(
                f"Organisation unit or organisation unit level is not valid: `{value}`", "E7143"
            )
    for unit in units:
        scope.require_analytics(unit)
    return list(dict.fromkeys(units))


def _paging(req: EventRequest, params: QueryParams) -> None:
    req.paging = parse_bool(params.get("paging"), True)
    req.total_pages = parse_bool(params.get("totalPages"), True)
    for name, minimum, code, text in (
        ("page", 1, "E7207", "Page number must be a positive number"),
        ("pageSize", 0, "E7208", "Page size must be zero or a positive number"),
    ):
        raw = params.get(name)
        if raw is None:
            continue
        if not raw.lstrip("-").isdigit() or int(raw) < minimum:
            raise conflict(f"{text}: `{raw}`", code)
        setattr(req, "page" if name == "page" else "page_size", int(raw))


def _statuses(raw: str | None, allowed: tuple[str, ...], name: str) -> list[str]:
    if not raw:
        return []
    values = [v.strip().upper() for v in raw.replace(";", ",").split(",") if v.strip()]
    for value in values:
        if value not in allowed:
            raise conflict(f"Invalid {name}: `{value}`", "E7222")
    return values


def _value(store: MetadataStore, req: EventRequest, params: QueryParams) -> None:
    aggregation = params.get("aggregationType")
    raw = params.get("value")
    if raw:
        item = parse_item(store, req.program, req.stage, raw, is_filter=True, enrollment=False)
        if item.value_type not in NUMERIC:
            raise conflict(
                "Value does not refer to a data element or attribute which are numeric and part "
                f"of the program: `{raw}`",
                "E7223",
            )
        if any(i.uid == item.uid and not i.is_filter for i in req.items):
            raise conflict(
                f"Value dimension cannot also be specified as an item or item filter: `{raw}`",
                "E7203",
            )
        req.value = item
    if aggregation:
        aggregation = aggregation.upper()
        if req.value is None:
            raise conflict(
                "Value dimension or aggregate data must be specified when aggregation type is "
                "specified",
                "E7204",
            )
        if aggregation not in VALUE_AGGREGATIONS:
            raise not_implemented(
                f"Query parameter `aggregationType={aggregation}` is defined by DHIS2 but not "
                "implemented here"
            )
        req.aggregation = aggregation
