"""Analytics from current data: cells fetched per org unit level, aggregated by each element's
aggregation type into rows over dx, pe, ou and the other dimensions (co, categories, org unit
group sets, category option group sets); indicators evaluated on the aggregates, reporting
rates from registrations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from itertools import product

from sqlalchemy.engine import Engine

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.analytics.combine import combine, format_value
from services.sectoral_platform.analytics.dx import indicator_elements
from services.sectoral_platform.analytics.expressions import evaluate
from services.sectoral_platform.analytics.fetch import Cells, Stat, fetch
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.analytics.program_indicators import KIND as PI_KIND
from services.sectoral_platform.analytics.program_indicators import program_indicator_values
from services.sectoral_platform.analytics.reporting import Answers, reporting_values
from services.sectoral_platform.analytics.request import AnalyticsQuery, group_members
from services.sectoral_platform.analytics.response import AnalyticsResponse, build_response
from services.sectoral_platform.metadata.store import MetadataStore

Extras = tuple[str, ...]
Mapper = Callable[[str | None, str | None, str], list[str]]  # (coc, aoc, unit) -> items
# item kinds answered as a batch per (period group, unit group); other kinds register here
BatchSource = Callable[
    [Engine, MetadataStore, list[DataItem], list[list[Period]], list[list[str]]], Answers
]
BATCH_SOURCES: dict[str, BatchSource] = {
    "reportingRate": reporting_values,
    PI_KIND: program_indicator_values,
}


def _mappers(store: MetadataStore, query: AnalyticsQuery) -> list[Mapper]:
    """Per extra dimension: the items a cell (option combo, attribute combo, org unit) is in."""
    options: dict[str, set[str]] = {}

    def coc_options(coc: str | None) -> set[str]:
        if coc is None:
            return set()
        if coc not in options:
            found = (store.get("categoryOptionCombos", coc) or {}).get("categoryOptions") or []
            options[coc] = {o["id"] for o in found}
        return options[coc]

    mappers: list[Mapper] = []
    for d in query.extra:
        wanted = set(d.items)
        if d.kind == "co":

            def by_coc(co: str | None, _a: str | None, _u: str, w: set[str] = wanted) -> list[str]:
                return [co] if co and (not w or co in w) else []

            mappers.append(by_coc)
        elif d.kind == "category":

            def by_option(
                co: str | None, _a: str | None, _u: str, w: set[str] = wanted
            ) -> list[str]:
                return sorted(coc_options(co) & w)

            mappers.append(by_option)
        elif d.kind == "cogs":
            mappers.append(
                _by_option_group(store, d.items, attribute_set(store, d.name), coc_options)
            )
        else:
            groups: dict[str, list[str]] = defaultdict(list)
            for g in d.items:
                for member in group_members(store, g):
                    groups[member].append(g)

            def by_group(
                _co: str | None, _a: str | None, u: str, g: dict[str, list[str]] = groups
            ) -> list[str]:
                return g.get(u, [])

            mappers.append(by_group)
    return mappers


def attribute_set(store: MetadataStore, uid: str) -> bool:
    """An ATTRIBUTE category option group set groups attribute option combos."""
    found = store.get("categoryOptionGroupSets", uid) or {}
    return found.get("dataDimensionType") == "ATTRIBUTE"


def _by_option_group(
    store: MetadataStore,
    wanted: list[str],
    attribute: bool,
    options_of: Callable[[str | None], set[str]],
) -> Mapper:
    """A value is in each wanted group holding one of its (attribute) option combo's options."""
    groups: dict[str, list[str]] = defaultdict(list)
    for g in wanted:
        for option in (store.get("categoryOptionGroups", g) or {}).get("categoryOptions") or []:
            groups[option["id"]].append(g)

    def by_group(co: str | None, ao: str | None, _u: str) -> list[str]:
        found = {g for o in options_of(ao if attribute else co) for g in groups.get(o, [])}
        return [g for g in wanted if g in found]

    return by_group


def _fetch_units(store: MetadataStore, query: AnalyticsQuery) -> list[str]:
    """The requested units; with an org unit group set dimension its member units inside them."""
    sets = [d for d in query.extra if d.kind == "ouGroupSet"]
    if not sets:
        return query.units
    paths = [store.path(u) or "" for u in query.units]
    members = {m for d in sets for g in d.items for m in group_members(store, g)}
    return sorted(m for m in members if any((store.path(m) or "").startswith(p) for p in paths))


def run(
    engine: Engine, store: MetadataStore, query: AnalyticsQuery, display: str | None = None
) -> AnalyticsResponse:
    opts = query.options
    if display:
        opts.display = display
    pe_dim, ou_dim, dx_dim = query.dim("pe"), query.dim("ou"), query.dim("dx")
    pe_groups: list[tuple[str | None, list[Period]]] = (
        [(None, query.periods)] if pe_dim.is_filter else [(p.id, [p]) for p in query.periods]
    )
    ou_groups: list[tuple[str | None, list[str]]] = (
        [(None, query.units)] if ou_dim.is_filter else [(u, [u]) for u in query.units]
    )
    row_dims = [d for d in query.dimensions if not d.is_filter]
    if opts.skip_data:
        return build_response(store, query, [], row_dims)
    by_attribute = any(d.kind == "cogs" and attribute_set(store, d.name) for d in query.extra)
    disaggregated = any(d.kind in ("co", "category", "cogs") for d in query.extra)
    totals: set[str] = set()
    details: set[str] = set()
    for item in query.data:
        if item.kind == "dataElement":
            totals.add(item.element or "")
        elif item.kind == "detail":
            details.add(item.element or "")
        elif item.kind == "indicator":
            for de, coc in indicator_elements(store, item.id):
                (details if coc else totals).add(de)
    if disaggregated:
        details, totals = details | totals, set()
    units = _fetch_units(store, query)
    extremes = opts.aggregation_type in ("MIN", "MAX")
    pre = tuple(opts.pre_criteria)
    sources: list[Cells] = [
        fetch(engine, store, totals, False, query.periods, units, extremes, pre),
        fetch(engine, store, details, True, query.periods, units, extremes, pre, by_attribute)
        if details
        else {},
    ]
    stored_periods = {(k[2], k[3]) for cells in sources for k in cells}
    period_map: dict[tuple[str, str], list[int]] = {
        sp: [
            i
            for i, (_, ps) in enumerate(pe_groups)
            if any(p.start.isoformat() <= sp[0] and sp[1] <= p.end.isoformat() for p in ps)
        ]
        for sp in stored_periods
    }
    unit_groups: dict[str, list[int]] = defaultdict(list)
    if units is query.units:
        for j, (_, us) in enumerate(ou_groups):
            for u in us:
                unit_groups[u].append(j)
    else:  # group members: each counts in every requested unit above it
        for u in units:
            path = store.path(u) or ""
            unit_groups[u] = [
                j
                for j, (_, us) in enumerate(ou_groups)
                if any(path.startswith(store.path(x) or "\0") for x in us)
            ]
    mappers = _mappers(store, query)
    index: dict[tuple[str, str | None, int, int, Extras], list[tuple[str, Stat]]] = defaultdict(
        list
    )
    found: list[set[str]] = [set() for _ in mappers]
    for source in sources:
        for (de, combo_key, s, e, unit), stat in source.items():
            co, ao = combo_key, None
            if combo_key and by_attribute:  # "coc:aoc"; the option combo alone keys the index
                co, _, ao = combo_key.partition(":")
            components = [m(co, ao, unit) for m in mappers]
            if not all(components):
                continue
            for k, comp in enumerate(components):
                found[k].update(comp)
            keys = [
                tuple("" if d.is_filter else x for d, x in zip(query.extra, combo, strict=True))
                for combo in product(*components)
            ]
            for i in period_map[(s, e)]:
                for j in unit_groups.get(unit, []):
                    for key in dict.fromkeys(keys):
                        index[(de, co, i, j, key)].append((s, stat))
                        if disaggregated and co is not None:
                            index[(de, None, i, j, key)].append((s, stat))
    for d, seen in zip(query.extra, found, strict=True):
        if d.kind == "co" and not d.items:
            d.items = sorted(seen)
    batches: Answers = {}
    for kind, source_fn in BATCH_SOURCES.items():
        chosen = [i for i in query.data if i.kind == kind]
        if chosen:
            batches.update(
                source_fn(
                    engine, store, chosen, [ps for _, ps in pe_groups], [us for _, us in ou_groups]
                )
            )

    def element_value(de: str, co: str | None, i: int, j: int, ex: Extras) -> float | None:
        aggregation = opts.aggregation_type or (store.get("dataElements", de) or {}).get(
            "aggregationType", "SUM"
        )
        return combine(index.get((de, co, i, j, ex), []), aggregation)

    rows: list[list[str]] = []
    dx_groups = [[item] for item in query.data] if not dx_dim.is_filter else [query.data]
    axes = [[""] if d.is_filter else d.items for d in query.extra]
    cells_of = product(dx_groups, enumerate(pe_groups), enumerate(ou_groups))
    for (dx_group, (i, (pe_id, _)), (j, (ou_id, _))), combo in product(cells_of, product(*axes)):
        extras: Extras = tuple(combo)
        value: float | None = None
        decimals: int | None = None
        numden: list[str] = [""] * 5
        for item in dx_group:
            part: float | None = None
            if item.kind == "indicator":
                ind = store.get("indicators", item.id) or {}
                lookup = lambda de, co, i=i, j=j, x=extras: element_value(de, co, i, j, x)  # noqa: E731
                num = evaluate(ind.get("numerator", "0"), lookup)
                den = evaluate(ind.get("denominator", "1"), lookup)
                if num is None or den in (None, 0):
                    continue
                type_uid = (ind.get("indicatorType") or {}).get("id", "")
                factor = float((store.get("indicatorTypes", type_uid) or {}).get("factor", 1))
                part = num / float(den or 1) * factor
                decimals = ind.get("decimals")
                numden = [format_value(x, None, opts.skip_rounding) for x in (num, den or 0)]
                numden += [format_value(factor), format_value(factor), "1"]
            elif item.kind in ("dataElement", "detail"):
                part = element_value(item.element or "", item.coc, i, j, extras)
            elif (item.id, i, j) in batches:
                part, above, below = batches[(item.id, i, j)]
                if above is not None and below is not None:
                    numden = [format_value(above), format_value(below), "100", "100", "1"]
            if part is not None:
                value = part if value is None else value + part
        if value is None or not opts.accepts(value):
            continue
        ids = {"dx": dx_group[0].id, "pe": pe_id, "ou": ou_id}
        ids |= {d.name: x for d, x in zip(query.extra, extras, strict=True)}
        row = [str(ids[d.name]) for d in row_dims]
        row.append(format_value(value, decimals, opts.skip_rounding))
        rows.append(row + numden if opts.include_num_den else row)
    if opts.order is not None:
        rows.sort(key=lambda r: float(r[len(row_dims)]), reverse=opts.order == "DESC")
    return build_response(store, query, rows, row_dims)
