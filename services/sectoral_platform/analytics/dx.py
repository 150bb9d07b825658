"""`dx` items by kind: each parser claims the items it recognises (first match wins)."""

from __future__ import annotations

from collections.abc import Callable

from services.sectoral_platform.analytics.expressions import operands
from services.sectoral_platform.analytics.items import DataItem
from services.sectoral_platform.analytics.program_indicators import parse_program_indicator
from services.sectoral_platform.dhis2.endpoints import refuse
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.store import MetadataStore

Parser = Callable[[MetadataStore, str], DataItem | None]

REPORTING_METRICS = {
    "REPORTING_RATE": "Reporting rate",
    "REPORTING_RATE_ON_TIME": "Reporting rate on time",
    "ACTUAL_REPORTS": "Actual reports",
    "ACTUAL_REPORTS_ON_TIME": "Actual reports on time",
    "EXPECTED_REPORTS": "Expected reports",
}
# dx item forms DHIS2 defines that the sandbox does not answer
REFUSED_PREFIXES = ("DE_GROUP-", "IN_GROUP-")


def _data_element(store: MetadataStore, item: str) -> DataItem | None:
    uid, _, coc = item.partition(".")
    if store.get("dataElements", uid) is None:
        return None
    if not coc:
        return DataItem(item, "dataElement", uid)
    if store.get("categoryOptionCombos", coc) is None:
        raise conflict(f"Data dimension item is not valid: `{item}`", "E7124")
    return DataItem(item, "detail", uid, coc)


def _indicator(store: MetadataStore, item: str) -> DataItem | None:
    if store.get("indicators", item) is None:
        return None
    return DataItem(item, "indicator")


def _reporting_rate(store: MetadataStore, item: str) -> DataItem | None:
    uid, _, metric = item.partition(".")
    if store.get("dataSets", uid) is None:
        return None
    if metric not in REPORTING_METRICS:
        raise conflict(f"Data dimension item is not valid: `{item}`", "E7124")
    return DataItem(item, "reportingRate", uid, metric)


PARSERS: list[Parser] = [_data_element, _indicator, _reporting_rate, parse_program_indicator]


def parse_data_item(store: MetadataStore, item: str) -> DataItem:
    if item.startswith(REFUSED_PREFIXES):
        refuse("dimension", f"dx:{item}")
    for parser in PARSERS:
        found = parser(store, item)
        if found is not None:
            return found
    raise conflict(f"Data dimension item is not valid or not found: `{item}`", "E7124")


def indicator_elements(store: MetadataStore, uid: str) -> list[tuple[str, str | None]]:
    indicator = store.get("indicators", uid) or {}
    return operands(indicator.get("numerator", "")) + operands(indicator.get("denominator", ""))
