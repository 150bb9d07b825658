"""`includeMetadataDetails=true`: the extra fields DHIS2 gives each `metaData.items` entry, and
the option combos a data element brings into `metaData.dimensions.co`."""

from __future__ import annotations

from typing import Any

from services.sectoral_platform.aggregate.periods import Period
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_COMBO
from services.sectoral_platform.metadata.store import MetadataStore

DIMENSION_TYPES = {
    "dx": "DATA_X",
    "pe": "PERIOD",
    "ou": "ORGANISATION_UNIT",
    "co": "CATEGORY_OPTION_COMBO",
}
ITEM_TYPES = {
    "dataElement": "DATA_ELEMENT",
    "detail": "DATA_ELEMENT_OPERAND",
    "indicator": "INDICATOR",
    "reportingRate": "REPORTING_RATE",
}


KIND_TYPES = {
    "ouGroupSet": "ORGANISATION_UNIT_GROUP_SET",
    "cogs": "CATEGORY_OPTION_GROUP_SET",
}


def dimension(name: str, kind: str = "") -> dict[str, Any]:
    return {
        "uid": name,
        "dimensionType": DIMENSION_TYPES.get(name) or KIND_TYPES.get(kind, "CATEGORY"),
    }


def data_item(store: MetadataStore, item: DataItem) -> dict[str, Any]:
    found: dict[str, Any] = {"uid": item.id}
    uid = item.element if item.kind in ("dataElement", "detail") else item.id
    if item.kind in ("dataElement", "detail"):
        element = store.get("dataElements", uid or "") or {}
        if element.get("code") and item.kind == "dataElement":
            found["code"] = element["code"]
        aggregation = str(element.get("aggregationType") or "SUM")
        value_type = str(element.get("valueType") or "NUMBER")
        found |= {"valueType": value_type, "aggregationType": aggregation}
    else:
        obj = store.get("indicators", item.id) or {}
        if obj.get("code"):
            found["code"] = obj["code"]
        found |= {"valueType": "NUMBER", "aggregationType": "SUM"}
    found["dimensionItemType"] = ITEM_TYPES.get(item.kind, item.kind.upper())
    found["totalAggregationType"] = "SUM"
    return found


def period(p: Period) -> dict[str, Any]:
    return {
        "uid": p.id,
        "code": p.id,
        "dimensionItemType": "PERIOD",
        "valueType": "TEXT",
        "totalAggregationType": "SUM",
        "startDate": f"{p.start.isoformat()}T00:00:00.000",
        "endDate": f"{p.end.isoformat()}T00:00:00.000",
    }


def plain(store: MetadataStore, plural: str, uid: str, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {"uid": uid}
    code = (store.get(plural, uid) or {}).get("code")
    if code:
        found["code"] = code
    return found | {"dimensionItemType": kind, "valueType": "TEXT", "totalAggregationType": "SUM"}


def element_combos(store: MetadataStore, data: list[DataItem]) -> list[str]:
    """The option combos of the data elements' category combos (`default` too), in combo order."""
    found: list[str] = []
    for item in data:
        if item.kind not in ("dataElement", "detail"):
            continue
        element = store.get("dataElements", item.element or "") or {}
        combo = (element.get("categoryCombo") or {}).get("id") or DEFAULT_CATEGORY_COMBO
        for coc in store.inverse("categoryCombos", "categoryOptionCombos", combo):
            if coc["id"] not in found:
                found.append(coc["id"])
    return found
