"""Parsing `/api/analytics` dimensions: dx (elements, indicators), pe (fixed, relative), ou."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.sectoral_platform.aggregate.periods import Period, parse_period, relative_periods
from services.sectoral_platform.analytics.expressions import operands
from services.sectoral_platform.analytics.program_indicators import KIND as PI_KIND
from services.sectoral_platform.analytics.program_indicators import is_program_indicator
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore

DIMENSION_NAMES = {"dx": "Data", "pe": "Period", "ou": "Organisation unit"}


@dataclass
class DataItem:
    id: str
    kind: str  # dataElement, detail (element.coc), indicator
    element: str | None = None
    coc: str | None = None


@dataclass
class Dimension:
    name: str
    items: list[str]
    is_filter: bool


@dataclass
class AnalyticsQuery:
    dimensions: list[Dimension]
    data: list[DataItem] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    relative: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    levels_used: list[str] = field(default_factory=list)

    def dim(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)


def _split(raw: str, is_filter: bool) -> Dimension:
    name, _, items = raw.partition(":")
    return Dimension(name, [i for i in items.split(";") if i], is_filter)


def parse_query(
    *,
    store: MetadataStore,
    scope: Scope,
    dimensions: list[str],
    filters: list[str],
    today: date,
) -> AnalyticsQuery:
    """Validate and expand the request the way DHIS2 does (409 with E71xx codes)."""
    dims = [_split(d, False) for d in dimensions] + [_split(f, True) for f in filters]
    if not [d for d in dims if not d.is_filter]:
        raise conflict("At least one dimension must be specified", "E7101")
    names = [d.name for d in dims]
    for name in set(names):
        if names.count(name) > 1:
            both = {d.is_filter for d in dims if d.name == name} == {True, False}
            if both:
                raise conflict(
                    "Dimensions cannot be specified as dimension and filter simultaneously: "
                    f"`{name}`",
                    "E7103",
                )
            raise conflict(f"Dimensions cannot be specified more than once: `{name}`", "E7114")
    for d in dims:
        if d.name not in DIMENSION_NAMES:
            raise conflict(
                f"Dimension identifier does not reference any dimension: `{d.name}`", "E7125"
            )
    if "dx" not in names:
        raise conflict(
            "At least one data dimension item or data element group set dimension item "
            "must be specified",
            "E7102",
        )
    if "pe" not in names:
        raise conflict(
            "At least one period as dimension or filter, or start and dates, must be specified",
            "E7104",
        )
    query = AnalyticsQuery(dims)
    for d in dims:
        if not d.items:
            raise conflict(
                f"Dimension is present in query without any valid dimension options: `{d.name}`",
                "E7124",
            )
    for item in query.dim("dx").items:
        query.data.append(_data_item(store, item))
    if query.dim("dx").is_filter and sum(i.kind == "indicator" for i in query.data) > 1:
        raise conflict("Only a single indicator can be specified as filter", "E7108")
    for item in query.dim("pe").items:
        rel = relative_periods(item, today)
        if rel is not None:
            query.relative.append(item)
            query.periods += [p for p in rel if p not in query.periods]
            continue
        period = parse_period(item)
        if period is None:
            raise conflict(f"Period is not valid: `{item}`", "E7124")
        if period not in query.periods:
            query.periods.append(period)
    if "ou" in names:
        query.units = _units(store, scope, query.dim("ou").items, query)
    else:
        query.units = scope.view_roots_or_top()
        query.dimensions.append(Dimension("ou", query.units, True))
    for unit in query.units:
        scope.require_analytics(unit)
    if not query.units:
        raise conflict(
            "Dimension is present in query without any valid dimension options: `ou`", "E7124"
        )
    return query


def _data_item(store: MetadataStore, item: str) -> DataItem:
    uid, _, coc = item.partition(".")
    if store.get("dataElements", uid) is not None:
        if coc:
            if store.get("categoryOptionCombos", coc) is None:
                raise conflict(f"Data dimension item is not valid: `{item}`", "E7124")
            return DataItem(item, "detail", uid, coc)
        return DataItem(item, "dataElement", uid)
    indicator = store.get("indicators", uid)
    if indicator is not None and not coc:
        return DataItem(item, "indicator")
    if not coc and is_program_indicator(store, uid):
        return DataItem(item, PI_KIND)
    raise conflict(f"Data dimension item is not valid or not found: `{item}`", "E7124")


def indicator_elements(store: MetadataStore, uid: str) -> list[tuple[str, str | None]]:
    indicator = store.get("indicators", uid) or {}
    return operands(indicator.get("numerator", "")) + operands(indicator.get("denominator", ""))


def _units(
    store: MetadataStore, scope: Scope, items: list[str], query: AnalyticsQuery
) -> list[str]:
    boundaries: list[str] = []
    levels: list[int] = []
    roots = scope.view_roots_or_top()
    for item in items:
        if item == "USER_ORGUNIT":
            boundaries += roots
        elif item in ("USER_ORGUNIT_CHILDREN", "USER_ORGUNIT_GRANDCHILDREN"):
            depth = 1 if item.endswith("_CHILDREN") and "GRAND" not in item else 2
            current = roots
            for _ in range(depth):
                current = [
                    c["id"]
                    for r in current
                    for c in store.inverse("organisationUnits", "children", r)
                ]
            boundaries += current
        elif item.startswith("LEVEL-"):
            levels.append(_level(store, item[len("LEVEL-") :]))
            query.levels_used.append(item)
        elif store.get("organisationUnits", item) is not None:
            scope.require_analytics(item)
            boundaries.append(item)
        else:
            raise conflict(
                f"Organisation unit or organisation unit level is not valid: `{item}`", "E7143"
            )
    if levels:
        bounds = boundaries or roots
        found: list[str] = []
        for level in levels:
            for root in bounds:
                found += [u for u in store.descendants(root) if store.level(u) == level]
        units = found
    else:
        units = boundaries
    return list(dict.fromkeys(units))


def _level(store: MetadataStore, raw: str) -> int:
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    for level in store.all("organisationUnitLevels"):
        if level["id"] == raw:
            return int(level.get("level", 0))
    raise conflict(f"Organisation unit level is not valid: `LEVEL-{raw}`", "E7143")
