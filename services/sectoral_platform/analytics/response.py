"""The analytics response: headers, metaData (item names, expanded dimensions), string rows."""

from __future__ import annotations

from typing import TypedDict

from services.sectoral_platform.analytics.request import DIMENSION_NAMES, AnalyticsQuery
from services.sectoral_platform.metadata.store import MetadataStore


class Header(TypedDict):
    name: str
    column: str
    valueType: str
    type: str
    hidden: bool
    meta: bool


class MetaData(TypedDict):
    items: dict[str, dict[str, str]]
    dimensions: dict[str, list[str]]


class AnalyticsResponse(TypedDict):
    """DHIS2's `/api/analytics` grid: typed headers, metaData, string rows."""

    headers: list[Header]
    metaData: MetaData
    rows: list[list[str]]
    width: int
    headerWidth: int
    height: int


def _name(store: MetadataStore, uid: str, display: str) -> str:
    for plural in ("dataElements", "indicators", "programIndicators", "organisationUnits"):
        obj = store.get(plural, uid)
        if obj is not None:
            if display == "SHORTNAME":
                return str(obj.get("shortName") or obj.get("name") or uid)
            return str(obj.get("name") or uid)
    return uid


def build_response(
    store: MetadataStore,
    query: AnalyticsQuery,
    rows: list[list[str]],
    row_dims: list[str],
    display: str,
) -> AnalyticsResponse:
    headers = [
        Header(
            name=name,
            column=DIMENSION_NAMES[name],
            valueType="TEXT",
            type="java.lang.String",
            hidden=False,
            meta=True,
        )
        for name in row_dims
    ]
    headers.append(
        Header(
            name="value",
            column="Value",
            valueType="NUMBER",
            type="java.lang.Double",
            hidden=False,
            meta=False,
        )
    )
    items: dict[str, dict[str, str]] = {
        name: {"name": label} for name, label in DIMENSION_NAMES.items()
    }
    for item in query.data:
        uid, _, coc = item.id.partition(".")
        label = _name(store, uid, display)
        if coc:
            label += " " + str((store.get("categoryOptionCombos", coc) or {}).get("name", coc))
        items[item.id] = {"name": label}
    for period in query.periods:
        items[period.id] = {"name": period.name}
    for rel in query.relative:
        items[rel] = {"name": rel.replace("_", " ").capitalize()}
    for uid in query.units:
        items[uid] = {"name": _name(store, uid, display)}
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
    dimensions: dict[str, list[str]] = {
        "dx": [i.id for i in query.data],
        "pe": [p.id for p in query.periods],
        "ou": list(query.units),
        "co": [],
    }
    return AnalyticsResponse(
        headers=headers,
        metaData=MetaData(items=items, dimensions=dimensions),
        rows=rows,
        width=len(headers),
        headerWidth=len(headers),
        height=len(rows),
    )
