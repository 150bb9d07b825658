"""What may be published: aggregate, non-negative integer counts summed over org units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.sectoral_platform.aggregate.periods import Period, parse_period, relative_periods
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.errors import bad_request, conflict
from services.sectoral_platform.metadata.store import MetadataStore
from services.sectoral_platform.opendata.suppression import MIN_THRESHOLD

DEFAULT_THRESHOLD = 5
MAX_THRESHOLD = 1000
MAX_CELLS = 100_000
COUNT_TYPES = ("INTEGER_ZERO_OR_POSITIVE", "INTEGER_POSITIVE")
FIELDS = {"title", "dataElements", "periods", "orgUnitLevel", "orgUnit", "threshold", "totals"}


@dataclass(frozen=True)
class PublicationSpec:
    title: str
    data_elements: list[str]
    periods: list[Period]
    level: int
    org_unit: str
    threshold: int
    totals: bool


def parse_spec(*, store: MetadataStore, scope: Scope, body: Any) -> PublicationSpec:
    """Shape errors are 400; well-formed requests naming what cannot be published are 409."""
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise bad_request(f"Unknown properties: {', '.join(unknown)}")
    elements = _uids(body.get("dataElements"), "dataElements")
    period_ids = _uids(body.get("periods"), "periods")
    for uid in elements:
        _check_count(store, uid)
    periods = [_period(p) for p in dict.fromkeys(period_ids)]
    org_unit = _org_unit(scope, body.get("orgUnit"))
    level = _level(store, body.get("orgUnitLevel"), org_unit)
    threshold = _threshold(body.get("threshold", DEFAULT_THRESHOLD))
    totals = body.get("totals", True)
    if not isinstance(totals, bool):
        raise bad_request("totals must be true or false")
    units = sum(1 for u in store.descendants(org_unit) if store.level(u) == level)
    cells = len(elements) * len(periods) * units
    if cells > MAX_CELLS:
        raise conflict(
            f"The publication would have up to {cells} cells (at most {MAX_CELLS}): publish "
            "fewer data elements or periods, a smaller area or a higher level"
        )
    title = body.get("title")
    if title is None:
        title = _default_title(store, elements, periods, level)
    if not isinstance(title, str) or not title.strip() or len(title) > 230:
        raise bad_request("title must be a non-empty text of at most 230 characters")
    return PublicationSpec(
        title.strip(), list(dict.fromkeys(elements)), periods, level, org_unit, threshold, totals
    )


def _uids(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{name} must be a non-empty list of identifiers")
    return list(value)


def _check_count(store: MetadataStore, uid: str) -> None:
    element = store.get("dataElements", uid)
    if element is None:
        what = store.find_type(uid)
        if what == "indicators":
            raise conflict(
                f"`{uid}` is an indicator: ratios and percentages cannot be published, only counts",
                "E7124",
            )
        if what == "trackedEntityAttributes":
            raise conflict(
                f"`{uid}` is a tracked entity attribute: individual data is never published",
                "E7124",
            )
        raise conflict(f"Data element not found: `{uid}`", "E7124")
    name = element.get("name", uid)
    if element.get("domainType", "AGGREGATE") != "AGGREGATE":
        raise conflict(
            f"`{name}` is a tracker data element: only aggregate counts can be published",
            "E7124",
        )
    value_type = element.get("valueType")
    if value_type not in COUNT_TYPES:
        raise conflict(
            f"`{name}` is not a count (valueType {value_type}): only "
            f"{' and '.join(COUNT_TYPES)} data elements can be published",
            "E7124",
        )
    aggregation = element.get("aggregationType", "SUM")
    if aggregation != "SUM":
        raise conflict(
            f"`{name}` is not a count (aggregationType {aggregation}): only SUM data elements "
            "can be published",
            "E7124",
        )


def _period(pid: str) -> Period:
    if relative_periods(pid, date.today()) is not None:
        raise conflict(f"`{pid}` is a relative period: a publication names fixed periods", "E7124")
    period = parse_period(pid)
    if period is None:
        raise conflict(f"Period is not valid: `{pid}`", "E7124")
    return period


def _org_unit(scope: Scope, value: Any) -> str:
    """The publication's top unit: named, or the caller's one view root; inside the view scope."""
    if value is None:
        roots = scope.view_roots_or_top()
        if len(roots) != 1:
            raise conflict("orgUnit is required: there is not exactly one top unit", "E7143")
        value = roots[0]
    if not isinstance(value, str):
        raise bad_request("orgUnit must be an org unit identifier")
    if scope.store.get("organisationUnits", value) is None:
        raise conflict(f"Organisation unit is not valid: `{value}`", "E7143")
    scope.require_analytics(value)
    return value


def _level(store: MetadataStore, value: Any, org_unit: str) -> int:
    if isinstance(value, bool) or value is None:
        raise bad_request("orgUnitLevel must be a level number or an org unit level identifier")
    level: int | None = None
    if isinstance(value, int):
        level = value
    elif isinstance(value, str):
        found = [lv for lv in store.all("organisationUnitLevels") if lv["id"] == value]
        level = int(found[0].get("level", 0)) if found else None
    else:
        raise bad_request("orgUnitLevel must be a level number or an org unit level identifier")
    deepest = max((store.level(u["id"]) or 0 for u in store.all("organisationUnits")), default=0)
    top = store.level(org_unit) or 1
    if level is None or not top <= level <= deepest:
        raise conflict(
            f"Organisation unit level is not valid: `{value}` (levels {top} to {deepest} lie "
            "at or below the org unit)",
            "E7143",
        )
    return level


def _threshold(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("threshold must be a whole number")
    if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise conflict(
            f"threshold must be from {MIN_THRESHOLD} to {MAX_THRESHOLD}: with zeros published, "
            "a threshold of 2 would withhold only ones, so a withheld cell would read as 1"
        )
    return value


def level_name(store: MetadataStore, level: int) -> str:
    for found in store.all("organisationUnitLevels"):
        if found.get("level") == level:
            return str(found.get("name") or f"Level {level}")
    return f"Level {level}"


def _default_title(
    store: MetadataStore, elements: list[str], periods: list[Period], level: int
) -> str:
    names = ", ".join(str((store.get("dataElements", e) or {}).get("name", e)) for e in elements)
    when = ", ".join(p.name for p in periods)
    return f"{names} — {when} — by {level_name(store, level).lower()}"[:230]
