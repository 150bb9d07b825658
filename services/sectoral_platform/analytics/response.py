"""The analytics response: headers, metaData (item names, expanded dimensions), string rows;
identifiers in the output id scheme."""

from __future__ import annotations

from typing import Any, TypedDict

from services.sectoral_platform.analytics import details
from services.sectoral_platform.analytics.dx import REPORTING_METRICS
from services.sectoral_platform.analytics.options import Options
from services.sectoral_platform.analytics.request import DIMENSION_NAMES, AnalyticsQuery, Dimension
from services.sectoral_platform.metadata.store import MetadataStore

NAMED = (
    "dataElements", "indicators", "programIndicators", "organisationUnits", "dataSets",
    "categoryOptionCombos",
    "categoryOptions", "categories", "organisationUnitGroups", "organisationUnitGroupSets",
    "categoryOptionGroups", "categoryOptionGroupSets",
)  # fmt: skip
NUM_DEN = ("numerator", "denominator", "factor", "multiplier", "divisor")


class Header(TypedDict):
    name: str
    column: str
    valueType: str
    type: str
    hidden: bool
    meta: bool


class MetaData(TypedDict, total=False):
    items: dict[str, dict[str, Any]]
    dimensions: dict[str, list[str]]
    ouHierarchy: dict[str, str]
    ouNameHierarchy: dict[str, str]


class AnalyticsResponse(TypedDict):
    """DHIS2's `/api/analytics` grid: typed headers, metaData, string rows."""

    headers: list[Header]
    metaData: MetaData
    rows: list[list[str]]
    width: int
    headerWidth: int
    height: int


def _typed(store: MetadataStore, uid: str) -> tuple[str, dict[str, Any]] | None:
    for plural in NAMED:
        obj = store.get(plural, uid)
        if obj is not None:
            return plural, obj
    return None


def _object(store: MetadataStore, uid: str) -> dict[str, Any] | None:
    found = _typed(store, uid)
    return None if found is None else found[1]


def name_of(store: MetadataStore, uid: str, display: str = "NAME") -> str:
    obj = _object(store, uid)
    if obj is None:
        return uid
    if display == "SHORTNAME" and obj.get("shortName"):
        return str(obj["shortName"])
    return str(obj.get("name") or uid)


class Output:
    """Identifiers as the output id schemes want them (a reporting rate keeps its metric)."""

    def __init__(self, store: MetadataStore, options: Options) -> None:
        self.store, self.options = store, options

    def __call__(self, uid: str) -> str:
        if self.options.all_uid:
            return uid
        head, dot, tail = uid.partition(".")
        if dot:
            return self(head) + "." + (tail if tail in REPORTING_METRICS else self(tail))
        found = _typed(self.store, uid)
        if found is None:
            return uid
        plural, obj = found
        scheme = self.options.scheme_for(plural)
        if scheme == "CODE":
            return str(obj.get("code") or uid)
        if scheme == "NAME":
            return name_of(self.store, uid, self.options.display)
        return uid


def _header(name: str, column: str, number: bool = False, meta: bool = True) -> Header:
    return Header(
        name=name,
        column=column,
        valueType="NUMBER" if number else "TEXT",
        type="java.lang.Double" if number else "java.lang.String",
        hidden=False,
        meta=meta,
    )


def headers_for(query: AnalyticsQuery, row_dims: list[Dimension]) -> list[Header]:
    headers = [_header(d.name, d.column) for d in row_dims]
    headers.append(_header("value", "Value", True, False))
    if query.options.include_num_den:
        headers += [_header(n, n.capitalize(), True, False) for n in NUM_DEN]
    return headers


def _item_name(store: MetadataStore, uid: str, display: str) -> str:
    head, _, tail = uid.partition(".")
    if tail in REPORTING_METRICS:
        return f"{name_of(store, head, display)} - {REPORTING_METRICS[tail]}"
    label = name_of(store, head, display)
    return f"{label} {name_of(store, tail, display)}" if tail else label


def _meta(store: MetadataStore, query: AnalyticsQuery) -> MetaData:
    opts = query.options
    out = Output(store, opts)
    items: dict[str, dict[str, Any]] = {}

    def put(key: str, name: str, extra: dict[str, Any] | None = None) -> None:
        items[key] = {"name": name} | (extra or {}) if opts.include_details else {"name": name}

    co_dim = any(d.kind == "co" for d in query.dimensions)
    for name, label in DIMENSION_NAMES.items():
        if name != "co" or co_dim:
            put(name, label, details.dimension(name))
    for item in query.data:
        put(out(item.id), _item_name(store, item.id, opts.display), details.data_item(store, item))
    for period in query.periods:
        if not query.dim("pe").hidden:
            put(period.id, period.name, details.period(period))
    for rel in query.relative:
        items[rel] = {"name": rel.replace("_", " ").capitalize()}
    for uid in query.units:
        unit = details.plain(store, "organisationUnits", uid, "ORGANISATION_UNIT")
        put(out(uid), name_of(store, uid, opts.display), unit)
    for uid in query.groups_used:
        group = details.plain(store, "organisationUnitGroups", uid, "ORGANISATION_UNIT_GROUP")
        put(out(uid), name_of(store, uid, opts.display), group)
    for level in query.levels_used:
        raw = level[len("LEVEL-") :]
        found = next(
            (
                lv
                for lv in store.all("organisationUnitLevels")
                if str(lv.get("level")) == raw or lv["id"] == raw
            ),
            None,
        )
        items[level] = {"name": str((found or {}).get("name", level))}
    combos = [] if co_dim else details.element_combos(store, query.data)
    dimensions: dict[str, list[str]] = {
        "dx": [out(i.id) for i in query.data],
        "pe": [] if query.dim("pe").hidden else [p.id for p in query.periods],
        "ou": [out(u) for u in query.units],
        "co": [out(c) for c in combos],
    }
    for coc in combos:
        put(out(coc), name_of(store, coc, opts.display))
    for d in query.extra:
        dimensions[d.name] = [out(x) for x in d.items]
        for x in d.items:
            plural = "categoryOptionGroups" if d.kind == "cogs" else "organisationUnitGroups"
            item_kind = "CATEGORY_OPTION_GROUP" if d.kind == "cogs" else "ORGANISATION_UNIT_GROUP"
            extra = (
                details.plain(store, plural, x, item_kind)
                if d.kind in ("cogs", "ouGroupSet")
                else None
            )
            put(out(x), name_of(store, x, opts.display), extra)
        if d.kind != "co":
            put(d.name, d.column, details.dimension(d.name, d.kind))
    meta = MetaData(items=items, dimensions=dimensions)
    if opts.show_hierarchy:
        meta["ouNameHierarchy"] = {
            out(u): "/" + "/".join(
                name_of(store, a, opts.display) for a in (store.path(u) or "").split("/") if a
            )
            for u in query.units
        }  # fmt: skip
    if opts.hierarchy_meta:
        meta["ouHierarchy"] = {
            out(u): "/".join(a for a in (store.path(u) or "").split("/")[1:-1]) for u in query.units
        }
    return meta


def build_response(
    store: MetadataStore,
    query: AnalyticsQuery,
    rows: list[list[str]],
    row_dims: list[Dimension],
) -> AnalyticsResponse:
    opts = query.options
    headers = [] if opts.skip_data else headers_for(query, row_dims)
    if not opts.all_uid:
        out = Output(store, opts)
        named = [d.kind != "pe" for d in row_dims]
        rows = [
            [out(c) if k < len(named) and named[k] else c for k, c in enumerate(r)] for r in rows
        ]
    return AnalyticsResponse(
        headers=headers,
        metaData=MetaData() if opts.skip_meta else _meta(store, query),
        rows=rows,
        width=len(headers),
        headerWidth=len(headers),
        height=len(rows),
    )
