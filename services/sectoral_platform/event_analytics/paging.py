"""Event analytics rows sorted (`asc`/`desc`) and paged, then wrapped in DHIS2's grid."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from services.sectoral_platform.errors import conflict
from services.sectoral_platform.event_analytics.request import EventRequest

Obj = dict[str, Any]


def sort_rows(
    headers: list[Obj], rows: list[list[str]], asc: list[str], desc: list[str], *, default: str
) -> list[list[str]]:
    names = [h["name"] for h in headers]
    keys = [(k, False) for k in asc] + [(k, True) for k in desc] or [(default, False)]
    for key, reverse in reversed(keys):
        index = _column(names, key)
        numeric = headers[index]["valueType"] in ("NUMBER", "INTEGER", "INTEGER_POSITIVE")
        rows.sort(key=partial(_sort_key, index=index, numeric=numeric), reverse=reverse)
    return rows


def _column(names: list[str], key: str) -> int:
    lowered = key.lower()
    for i, name in enumerate(names):
        if name.lower() == lowered or name.split(".")[-1] == key:
            return i
    raise conflict(f"Sort dimension is not a column of the response: `{key}`", "E7222")


def _sort_key(row: list[str], *, index: int, numeric: bool) -> tuple[int, float, str]:
    value = row[index]
    if numeric:
        try:
            return (0, float(value), "")
        except ValueError:
            return (1, 0.0, value)
    return (0, 0.0, value)


def page(req: EventRequest, headers: list[Obj], rows: list[list[str]], meta: Obj) -> Obj:
    if req.paging and req.page_size > 0:
        total = len(rows)
        start = (req.page - 1) * req.page_size
        rows = rows[start : start + req.page_size]
        if req.total_pages:
            meta["pager"] = {
                "page": req.page, "total": total, "pageSize": req.page_size,
                "pageCount": max(1, math.ceil(total / req.page_size)),
            }  # fmt: skip
        else:
            meta["pager"] = {"page": req.page, "pageSize": req.page_size,
                             "isLastPage": start + req.page_size >= total}  # fmt: skip
    return grid(headers, meta, rows)


def grid(headers: list[Obj], meta: Obj, rows: list[list[str]]) -> Obj:
    return {"headers": headers, "metaData": meta, "rows": rows, "height": len(rows),
            "width": len(headers), "headerWidth": len(headers)}  # fmt: skip
