"""`filter=` (every DHIS2 operator, nested paths, rootJunction), `order=` and paging."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from services.sectoral_platform.errors import bad_request
from services.sectoral_platform.metadata.schema import EMBEDDED, EMBEDDED_SIMPLE, SCHEMAS
from services.sectoral_platform.metadata.store import Obj
from services.sectoral_platform.metadata.wire import MISSING, Viewer

OPERATORS = (
    "eq",
    "!eq",
    "ieq",
    "ne",
    "neq",
    "like",
    "!like",
    "$like",
    "like$",
    "!$like",
    "!like$",
    "ilike",
    "!ilike",
    "$ilike",
    "ilike$",
    "!$ilike",
    "!ilike$",
    "gt",
    "ge",
    "lt",
    "le",
    "null",
    "!null",
    "empty",
    "!empty",
    "token",
    "!token",
    "in",
    "!in",
    "sw",
    "ew",
)
UNARY = {"null", "!null", "empty", "!empty"}
NEGATED = {"!eq", "ne", "neq", "!like", "!$like", "!like$", "!ilike", "!$ilike", "!ilike$"}
NEGATED |= {"!token", "!in"}


@dataclass(frozen=True)
class Filter:
    path: tuple[str, ...]
    op: str
    value: str | None


def parse_filter(viewer: Viewer, type_: str, text: str) -> Filter:
    """`dataSetElements.dataSet.id:eq:X`: the path is checked against the schema (400 if not)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0]:
        raise bad_request(f"Invalid filter `{text}`: expected property:operator[:value]")
    prop, op = parts[0], parts[1]
    value = parts[2] if len(parts) == 3 else None
    if op not in OPERATORS:
        raise bad_request(f"Query failed because of a syntax error: unknown operator `{op}`")
    if op not in UNARY and value is None:
        raise bad_request(f"Invalid filter `{text}`: operator `{op}` needs a value")
    path = tuple(prop.split("."))
    current: str | None = type_
    for depth, segment in enumerate(path):
        if current is None or not _known(viewer, current, segment):
            raise bad_request(f"Unknown path property: `{segment}` in filter `{text}`")
        if depth < len(path) - 1:
            current = viewer.target_type(current, segment)
    return Filter(path, op, value)


def _known(viewer: Viewer, type_: str, name: str) -> bool:
    if type_ in SCHEMAS:
        return viewer.prop_of(type_, name) is not None
    return name in EMBEDDED.get(type_, {}) or name in EMBEDDED_SIMPLE.get(type_, ())


def _values(viewer: Viewer, type_: str | None, obj: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at the end of `path` (collections flattened: any element may match)."""
    if type_ is None or not isinstance(obj, dict):
        return []
    raw = viewer.value(type_, obj, path[0])
    if raw is MISSING or raw is None:
        return [] if len(path) > 1 else [None]
    items = raw if isinstance(raw, list) else [raw]
    if len(path) == 1:
        if isinstance(raw, list):
            return [i.get("id") if isinstance(i, dict) and "id" in i else i for i in items]
        if isinstance(raw, dict) and "id" in raw:
            return [raw["id"]]
        return [raw]
    target = viewer.target_type(type_, path[0])
    found: list[Any] = []
    for item in items:
        resolved = viewer.resolve(target, item)
        if resolved is not None:
            found += _values(viewer, resolved[0], resolved[1], path[1:])
        elif isinstance(item, dict):
            if path[1] == "id" and len(path) == 2 and "id" in item:
                found.append(item["id"])
            else:
                found += _values(viewer, target, item, path[1:])
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(left: Any, right: str, op: str) -> bool:
    if left is None:
        return False
    a, b = _number(left), _number(right)
    if a is None or b is None or isinstance(left, str):
        a_text, b_text = _text(left), right
        return {
            "gt": a_text > b_text,
            "ge": a_text >= b_text,
            "lt": a_text < b_text,
            "le": a_text <= b_text,
        }[op]
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]


def _in_list(value: str) -> list[str]:
    return [v.strip() for v in value.strip().strip("[]").split(",") if v.strip()]


def _positive(op: str) -> str:
    return {"!eq": "eq", "ne": "eq", "neq": "eq", "!in": "in", "!token": "token"}.get(
        op, op.replace("!", "", 1)
    )


def _matches_one(value: Any, op: str, arg: str) -> bool:
    text = _text(value)
    if op == "eq":
        return value is not None and text == arg
    if op == "ieq":
        return value is not None and text.lower() == arg.lower()
    if op in ("like", "ilike", "$like", "$ilike", "like$", "ilike$", "sw", "ew"):
        if value is None:
            return False
        hay, needle = (text.lower(), arg.lower()) if "ilike" in op else (text, arg)
        if op.startswith("$") or op == "sw":
            return hay.startswith(needle)
        if op.endswith("$") or op == "ew":
            return hay.endswith(needle)
        return needle in hay
    if op in ("gt", "ge", "lt", "le"):
        return _compare(value, arg, op)
    if op == "in":
        return value is not None and text in _in_list(arg)
    if op == "token":
        words = re.split(r"\s+", text.lower())
        return all(any(w.startswith(t) for w in words) for t in arg.lower().split())
    return False


def matches(viewer: Viewer, type_: str, obj: Obj, flt: Filter) -> bool:
    values = _values(viewer, type_, obj, flt.path)
    present = [v for v in values if v is not None]
    if flt.op == "null":
        return not present
    if flt.op == "!null":
        return bool(present)
    if flt.op in ("empty", "!empty"):
        raw = viewer.value(type_, obj, flt.path[0]) if len(flt.path) == 1 else present
        empty = raw is MISSING or raw is None or (isinstance(raw, list | str) and len(raw) == 0)
        return empty if flt.op == "empty" else not empty
    assert flt.value is not None
    positive = _positive(flt.op)
    hit = any(_matches_one(v, positive, flt.value) for v in values)
    return not hit if flt.op in NEGATED else hit


def select_objects(
    viewer: Viewer,
    type_: str,
    objects: list[Obj],
    filters: list[Filter],
    root_junction: str = "AND",
    extra: Callable[[Obj], bool] | None = None,
) -> list[Obj]:
    combine = any if root_junction.upper() == "OR" else all
    out = []
    for obj in objects:
        if extra is not None and not extra(obj):
            continue
        if filters and not combine(matches(viewer, type_, obj, f) for f in filters):
            continue
        out.append(obj)
    return out


def sort_objects(viewer: Viewer, type_: str, objects: list[Obj], orders: list[str]) -> list[Obj]:
    """`order=name:asc,code:idesc`; the default is by name, then id (stable for paging)."""
    keys: list[tuple[str, str]] = []
    for spec in orders:
        for part in spec.split(","):
            if not part.strip():
                continue
            prop, _, direction = part.strip().partition(":")
            direction = (direction or "asc").lower()
            if direction not in ("asc", "desc", "iasc", "idesc"):
                raise bad_request(f"Invalid order direction `{direction}` for `{prop}`")
            if viewer.prop_of(type_, prop) is None:
                raise bad_request(f"Unknown order property: `{prop}`")
            keys.append((prop, direction))
    result = sorted(objects, key=lambda o: o.get("id", ""))
    if not keys:
        keys = [("name", "asc")] if viewer.prop_of(type_, "name") else []
    for prop, direction in reversed(keys):
        ci = direction.startswith("i")

        def key(o: Obj, prop: str = prop, ci: bool = ci) -> tuple[int, Any]:
            value = viewer.value(type_, o, prop)
            if value is MISSING or value is None:
                return (1, "")
            if isinstance(value, int | float) and not isinstance(value, bool):
                return (0, value)
            text = _text(value)
            return (0, text.lower() if ci else text)

        result.sort(key=key, reverse=direction.endswith("desc"))
    return result


def pager(
    *, total: int, page: int, page_size: int, url: str, params: list[tuple[str, str]]
) -> dict[str, Any]:
    """DHIS2's pager: `pageCount >= 1`, absolute `nextPage`/`prevPage` only when they exist."""
    page_count = max(1, -(-total // page_size))
    result: dict[str, Any] = {
        "page": page,
        "total": total,
        "pageSize": page_size,
        "pageCount": page_count,
    }
    others = [(k, v) for k, v in params if k != "page"]

    def link(number: int) -> str:
        return f"{url}?{urlencode([*others, ('page', str(number))])}"

    if page < page_count:
        result["nextPage"] = link(page + 1)
    if page > 1:
        result["prevPage"] = link(min(page - 1, page_count))
    return result
