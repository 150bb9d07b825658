"""Parsing `/api/analytics` dimensions: dx (a dispatch by item kind), pe (fixed, relative,
start/end dates), ou (uids, levels, groups, user units), co, categories, org unit group sets,
category option group sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.analytics.dx import parse_data_item
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.analytics.options import Options
from services.sectoral_platform.analytics.pe import add_periods
from services.sectoral_platform.auth.scope import Scope
from services.sectoral_platform.dhis2.endpoints import refuse
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore

DIMENSION_NAMES = {
    "dx": "Data",
    "pe": "Period",
    "ou": "Organisation unit",
    "co": "Category option combo",
}
# dimensions DHIS2 defines that the sandbox does not answer
REFUSED_DIMENSIONS = ("ao",)
# item kinds allowed next to a co or category dimension (DHIS2's E7114)
DISAGGREGABLE = ("dataElement", "detail")
EXTRA_KINDS = ("co", "category", "ouGroupSet", "cogs")


@dataclass
class Dimension:
    name: str
    items: list[str]
    is_filter: bool
    kind: str = ""  # dx, pe, ou, co, category, ouGroupSet, cogs
    column: str = ""
    hidden: bool = False  # the start/end date period: a filter the response does not show


@dataclass
class AnalyticsQuery:
    dimensions: list[Dimension]
    data: list[DataItem] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    relative: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    levels_used: list[str] = field(default_factory=list)
    groups_used: list[str] = field(default_factory=list)
    options: Options = field(default_factory=Options)

    def dim(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)

    @property
    def extra(self) -> list[Dimension]:
        """The dimensions besides dx, pe and ou, in request order."""
        return [d for d in self.dimensions if d.kind in EXTRA_KINDS]


def _split(raw: str, is_filter: bool) -> Dimension:
    name, _, items = raw.partition(":")
    return Dimension(name, [i for i in items.split(";") if i], is_filter)


def _classify(store: MetadataStore, d: Dimension) -> None:
    if d.name in DIMENSION_NAMES:
        d.kind, d.column = d.name, DIMENSION_NAMES[d.name]
        return
    if d.name in REFUSED_DIMENSIONS:
        refuse("dimension", d.name)
    for plural, kind, members in (
        ("categories", "category", "categoryOptions"),
        ("organisationUnitGroupSets", "ouGroupSet", "organisationUnitGroups"),
        ("categoryOptionGroupSets", "cogs", "categoryOptionGroups"),
    ):
        obj = store.get(plural, d.name)
        if obj is None or obj.get("dataDimension") is False:  # DHIS2 only offers data dimensions
            continue
        d.kind, d.column = kind, str(obj.get("name") or d.name)
        allowed = [m["id"] for m in obj.get(members) or []]
        for item in d.items:
            if item not in allowed:
                raise conflict(f"Dimension item is not valid: `{d.name}:{item}`", "E7124")
        d.items = d.items or allowed
        return
    raise conflict(f"Dimension identifier does not reference any dimension: `{d.name}`", "E7125")


def parse_query(
    *,
    store: MetadataStore,
    scope: Scope,
    dimensions: list[str],
    filters: list[str],
    today: date,
    options: Options | None = None,
) -> AnalyticsQuery:
    """Validate and expand the request the way DHIS2 does (409 with E71xx codes)."""
    options = options or Options()
    # Spring binds `dimension=dx:a,pe:2024` as two values; DHIS2 clients rely on it
    dims = [_split(d, False) for raw in dimensions for d in raw.split(",") if d] + [
        _split(f, True) for raw in filters for f in raw.split(",") if f
    ]
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
            raise conflict(f"Dimensions cannot be specified more than once: `{name}`", "E7111")
    for d in dims:
        _classify(store, d)
    if "dx" not in names:
        raise conflict(
            "At least one data dimension item or data element group set dimension item "
            "must be specified",
            "E7102",
        )
    dated = options.start is not None and options.end is not None
    if "pe" in names and dated:
        raise conflict(
            "Periods and start and end dates cannot be specified simultaneously", "E7105"
        )
    if "pe" not in names and not dated:
        raise conflict(
            "At least one period as dimension or filter, or start and dates, must be specified",
            "E7104",
        )
    query = AnalyticsQuery(dims, options=options)
    for d in dims:
        if not d.items and d.kind in ("dx", "pe", "ou"):
            raise conflict(
                f"Dimension is present in query without any valid dimension options: `{d.name}`",
                "E7124",
            )
        if d.kind == "co" and d.is_filter:
            raise conflict("Category option combos cannot be specified as filter", "E7110")
        if d.kind == "co":
            for coc in d.items:
                if store.get("categoryOptionCombos", coc) is None:
                    raise conflict(f"Dimension item is not valid: `co:{coc}`", "E7124")
    query.data = [parse_data_item(store, item) for item in query.dim("dx").items]
    _check_data(query)
    if dated and options.start is not None and options.end is not None:
        query.periods = [
            Period(f"{options.start}_{options.end}", "Daily", options.start, options.end)
        ]
        query.dimensions.append(Dimension("pe", [], True, "pe", "Period", hidden=True))
    else:
        add_periods(query.dim("pe").items, today, relative=query.relative, periods=query.periods)
    for root in options.user_org_units:
        if store.get("organisationUnits", root) is None:
            raise conflict(f"Organisation unit is not valid: `userOrgUnit={root}`", "E7143")
    if "ou" in names:
        query.units = _units(store, scope, query.dim("ou").items, query)
    else:
        query.units = options.user_org_units or scope.view_roots_or_top()
        query.dimensions.append(Dimension("ou", query.units, True, "ou", DIMENSION_NAMES["ou"]))
    for unit in query.units:
        scope.require_analytics(unit)
    if not query.units:
        raise conflict(
            "Dimension is present in query without any valid dimension options: `ou`", "E7124"
        )
    return query


def _check_data(query: AnalyticsQuery) -> None:
    dx = query.dim("dx")
    kinds = {i.kind for i in query.data}
    if dx.is_filter and sum(i.kind == "indicator" for i in query.data) > 1:
        raise conflict("Only a single indicator can be specified as filter", "E7108")
    if dx.is_filter and sum(i.kind == "reportingRate" for i in query.data) > 1:
        raise conflict("Only a single reporting rate can be specified as filter", "E7109")
    if any(d.kind in ("co", "category") for d in query.dimensions) and kinds - set(DISAGGREGABLE):
        raise conflict(
            "Assigned categories can only be specified together with data elements, "
            "not indicators or reporting rates",
            "E7114",
        )
    for d in query.dimensions:
        if d.kind == "cogs" and kinds - {"dataElement", "detail", "indicator", "reportingRate"}:
            refuse("dimension", d.name)  # program indicators by category option group set
    if "reportingRate" in kinds:
        if query.options.start is not None:
            raise conflict("Start and end dates cannot be specified for reporting rates", "E7107")
        if any(d.kind in ("ouGroupSet", "cogs") for d in query.dimensions):
            raise conflict(
                "Reporting rates can only be specified together with dimensions of type: "
                "`dx`, `pe`, `ou`",
                "E7112",
            )


def group_members(store: MetadataStore, group: str) -> list[str]:
    return [u["id"] for u in (store.get("organisationUnitGroups", group) or {}).get(
        "organisationUnits"
    ) or []]  # fmt: skip


def _units(
    store: MetadataStore, scope: Scope, items: list[str], query: AnalyticsQuery
) -> list[str]:
    boundaries: list[str] = []
    levels: set[int] = set()
    members: set[str] = set()
    roots = query.options.user_org_units or scope.view_roots_or_top()
    for item in items:
        if item == "USER_ORGUNIT":
            boundaries += roots
        elif item in ("USER_ORGUNIT_CHILDREN", "USER_ORGUNIT_GRANDCHILDREN"):
            depth = 1 if "GRAND" not in item else 2
            current = roots
            for _ in range(depth):
                current = [
                    c["id"]
                    for r in current
                    for c in store.inverse("organisationUnits", "children", r)
                ]
            boundaries += current
        elif item.startswith("LEVEL-"):
            levels.add(_level(store, item[len("LEVEL-") :]))
            query.levels_used.append(item)
        elif item.startswith("OU_GROUP-"):
            uid = item[len("OU_GROUP-") :]
            if store.get("organisationUnitGroups", uid) is None:
                raise conflict(f"Organisation unit group is not valid: `{item}`", "E7143")
            members.update(group_members(store, uid))
            query.groups_used.append(uid)
        elif store.get("organisationUnits", item) is not None:
            scope.require_analytics(item)
            boundaries.append(item)
        else:
            raise conflict(
                f"Organisation unit or organisation unit level is not valid: `{item}`", "E7143"
            )
    if not levels and not members:
        return list(dict.fromkeys(boundaries))
    found: list[str] = []
    for root in boundaries or roots:
        found += [u for u in store.descendants(root) if store.level(u) in levels or u in members]
    return list(dict.fromkeys(found))


def _level(store: MetadataStore, raw: str) -> int:
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    for level in store.all("organisationUnitLevels"):
        if level["id"] == raw:
            return int(level.get("level", 0))
    raise conflict(f"Organisation unit level is not valid: `LEVEL-{raw}`", "E7143")
