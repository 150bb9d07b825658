"""`/api/analytics/dataValueSet`: the aggregated grid as data values (DHIS2 marks them
`[aggregated]`), rendered by the data value set writers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine

from services.kernel.time import dhis2_timestamp
from services.sectoral_platform.analytics.request import AnalyticsQuery
from services.sectoral_platform.analytics.response import Header
from services.sectoral_platform.analytics.service import run
from services.sectoral_platform.errors import conflict
from services.sectoral_platform.metadata.schema import DEFAULT_CATEGORY_OPTION_COMBO
from services.sectoral_platform.metadata.store import MetadataStore

AGGREGATED = "[aggregated]"
REQUIRED = {"dx": "E7117", "pe": "E7118", "ou": "E7119"}
LABEL = {"dx": "data", "pe": "period", "ou": "organisation unit"}


def value_set(
    engine: Engine, store: MetadataStore, query: AnalyticsQuery, adx: bool = False
) -> Iterator[dict[str, Any]]:
    """The grid's rows as data values: `dx` of `element.coc` (or a `co` column) splits; the
    query is checked and answered before the first value is written."""
    for name, code in REQUIRED.items():
        if not any(d.name == name and not d.is_filter for d in query.dimensions):
            raise conflict(
                f"A {LABEL[name]} dimension '{name}' must be specified when output format is "
                "DATA_VALUE_SET",
                code,
            )
    query.options.skip_meta, query.options.include_num_den = True, False
    grid = run(engine, store, query)
    return _values(grid["headers"], grid["rows"], adx)


def _values(headers: list[Header], rows: list[list[str]], adx: bool) -> Iterator[dict[str, Any]]:
    index = {h["name"]: k for k, h in enumerate(headers)}
    stamp = dhis2_timestamp()
    for row in rows:
        de, _, coc = row[index["dx"]].partition(".")
        if "co" in index:
            coc = row[index["co"]]
        value: dict[str, Any] = {
            "dataElement": de,
            "period": row[index["pe"]],
            "orgUnit": row[index["ou"]],
        }
        if coc or adx:
            value["categoryOptionCombo"] = coc or DEFAULT_CATEGORY_OPTION_COMBO
        if adx:
            value["attributeOptionCombo"] = DEFAULT_CATEGORY_OPTION_COMBO
        value |= {
            "value": row[index["value"]],
            "storedBy": AGGREGATED,
            "created": stamp,
            "lastUpdated": stamp,
            "comment": AGGREGATED,
        }
        yield value
