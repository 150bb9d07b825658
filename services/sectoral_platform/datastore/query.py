"""The dataStore query language, as DHIS2 documents it: `fields=` extraction (nesting, `~hoist`),
`filter=` on value paths and the key, `order=`. Evaluated over the namespace's entries in memory."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.sectoral_platform.errors import bad_request

MISSING: Any = object()
MAX_DEPTH = 5
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_SEGMENT = re.compile(r"\[(\d+)\]")
UNARY = frozenset({"null", "!null", "empty", "!empty"})
BINARY = frozenset({
    "eq", "!eq", "ne", "neq", "lt", "le", "gt", "ge",
    "like", "!like", "$like", "!$like", "like$", "!like$",
    "ilike", "!ilike", "$ilike", "!$ilike", "ilike$", "!ilike$",
    "startswith", "!startswith", "endswith", "!endswith",
})  # fmt: skip
SETS = frozenset({"in", "!in"})
ORDERS = ("asc", "desc", "nasc", "ndesc")


@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]
    alias: str


@dataclass(frozen=True)
class Filter:
    text: str
    path: tuple[str, ...] | None  # None: the entry key (`_`)
    op: str
    arg: str


def parse_path(text: str) -> tuple[str, ...]:
    """`.` is the root; `a.b`, `a[0].b` and `a.0.b` go down (at most five levels)."""
    if text == ".":
        return ()
    segments = tuple(_SEGMENT.sub(r".\1", text).split("."))
    if not text or any(s == "" for s in segments) or len(segments) > MAX_DEPTH:
        raise bad_request(f"Not a valid path: `{text}`", "E7650")
    return segments


def parse_fields(text: str) -> list[Field]:
    """`name,root[child1,child2],a(b~hoist(x))`; an empty expression selects only the keys."""
    fields, _ = _fields(text.replace(" ", ""), 0, (), 0)
    return fields


def _fields(text: str, pos: int, parent: tuple[str, ...], depth: int) -> tuple[list[Field], int]:
    fields: list[Field] = []
    while pos < len(text):
        match = re.compile(r"[^,\[\]()~]*").match(text, pos)
        assert match is not None
        name, pos = match.group(0), match.end()
        alias: str | None = None
        children: list[Field] | None = None
        if pos < len(text) and text[pos] in "[(":
            children, pos = _fields(text, pos + 1, (*parent, *parse_path(name)), depth + 1)
        if text.startswith("~hoist(", pos):
            end = text.find(")", pos)
            if end < 0:
                _illegal(pos, text[pos:])
            alias, pos = text[pos + len("~hoist(") : end], end + 1
        if name:
            if children is not None:
                fields.extend(children)
            else:
                path = (*parent, *parse_path(name))
                fields.append(Field(path, alias or (".".join(path) if path else "value")))
        if pos < len(text):
            if text[pos] in "])":
                if depth == 0:
                    _illegal(pos, text[pos])
                return fields, pos + 1
            if text[pos] != ",":
                _illegal(pos, text[pos])
            pos += 1
    if depth:
        _illegal(pos, "end of expression")
    return fields, pos


def _illegal(pos: int, found: str) -> None:
    raise bad_request(
        f"Illegal fields expression. Expected `,`, `[` or `]` at position {pos} but found "
        f"`{found}`",
        "E7651",
    )


def resolve(value: Any, path: tuple[str, ...]) -> Any:
    for segment in path:
        if isinstance(value, dict):
            value = value.get(segment, MISSING)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def extract(key: str, value: Any, fields: list[Field], include_all: bool) -> dict[str, Any] | None:
    """`{"key": ..., <alias>: <value at path>}`; None when every field is null and not all are
    wanted. A dotted alias nests (`a.b` -> `{"a": {"b": ...}}`)."""
    entry: dict[str, Any] = {"key": key}
    found = False
    for field in fields:
        picked = resolve(value, field.path)
        picked = None if picked is MISSING else picked
        found = found or picked is not None
        target = entry
        *parents, leaf = field.alias.split(".")
        for name in parents:
            target = target.setdefault(name, {})
        target[leaf] = picked
    return entry if found or include_all or not fields else None


def parse_filter(text: str) -> Filter:
    path_text, _, rest = text.partition(":")
    op, _, arg = rest.partition(":")
    if op not in UNARY | BINARY | SETS:
        raise bad_request(f"Illegal filter expression `{text}`: unknown operator `{op}`", "E7652")
    path = None if path_text == "_" else parse_path(path_text)
    if path is None and op in UNARY:
        raise bad_request(f"Illegal filter `{text}`: key filters cannot be used with unary "
                          "operators", "E7653")  # fmt: skip
    if op not in UNARY and arg.strip() == "":
        raise bad_request(f"Illegal filter `{text}`: the operator `{op}` requires a value", "E7653")
    if op in UNARY and arg.strip():
        raise bad_request(
            f"Illegal filter `{text}`: the operator `{op}` is unary and does not require a value",
            "E7653",
        )
    return Filter(text, path, op, arg)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _typed(arg: str) -> Any:
    """The filter value's type decides the comparison: boolean, number, else text."""
    if len(arg) >= 2 and arg[0] == arg[-1] == "'":
        return arg[1:-1]
    if arg in ("true", "false"):
        return arg == "true"
    if _NUMBER.match(arg):
        return float(arg)
    return arg


def matches(key: str, value: Any, flt: Filter) -> bool:
    found = key if flt.path is None else resolve(value, flt.path)
    if found is MISSING:
        return False
    negated = flt.op.startswith("!") or flt.op in ("ne", "neq")
    op = {"ne": "eq", "neq": "eq"}.get(flt.op, flt.op.lstrip("!"))
    return _positive(found, op, flt.arg) != negated


def _positive(found: Any, op: str, raw: str) -> bool:
    if op == "null":
        return found is None
    if op == "empty":
        return found in ({}, [], "")
    if op == "in":
        return _text(found) in [v.strip() for v in raw.strip("[]").split(",")]
    arg = _typed(raw)
    if op in ("eq", "lt", "le", "gt", "ge"):
        return _compare(found, op, arg)
    if isinstance(found, (dict, list)) or found is None:
        return False
    text, pattern = _text(found), str(raw.strip("'"))
    if op.startswith("i") or op in ("$ilike", "ilike$", "startswith", "endswith"):
        text, pattern = text.casefold(), pattern.casefold()
    if op.startswith("$") or op == "startswith":
        return text.startswith(pattern)
    if op.endswith("$") or op == "endswith":
        return text.endswith(pattern)
    return pattern in text


def _compare(found: Any, op: str, arg: Any) -> bool:
    if isinstance(arg, bool):
        return op == "eq" and found is arg
    if isinstance(arg, float):
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            return False
        left: Any = float(found)
    elif isinstance(found, (dict, list)) or found is None:
        return False
    else:
        left = _text(found)
    if op == "eq":
        return bool(left == arg)
    result: bool = {"lt": left < arg, "le": left <= arg, "gt": left > arg, "ge": left >= arg}[op]
    return result


def parse_order(text: str | None) -> tuple[tuple[str, ...] | None, str]:
    """`<path>[:asc|desc|nasc|ndesc]`; `_` is the key. Default: by key, ascending."""
    if not text:
        return None, "asc"
    path_text, _, direction = text.partition(":")
    direction = direction.lower() or "asc"
    if direction not in ORDERS:
        raise bad_request(f"Illegal order `{text}`: direction must be one of {', '.join(ORDERS)}")
    return (None if path_text == "_" else parse_path(path_text)), direction


def sort_entries(
    rows: list[tuple[str, Any]], path: tuple[str, ...] | None, direction: str, label: str
) -> list[tuple[str, Any]]:
    def pick(row: tuple[str, Any]) -> Any:
        return row[0] if path is None else resolve(row[1], path)

    reverse = direction in ("desc", "ndesc")
    if direction.startswith("n"):
        picked = [pick(r) for r in rows]
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in picked):
            raise bad_request(
                f"Cannot use numeric sort order on property `{label}` as the property contains "
                f"non-numeric values for matching entries. Use {direction[1:]} instead or apply "
                f"a filter that only matches entries with numeric values for {label}."
            )
        by_key = sorted(rows, key=lambda r: r[0])  # ties stay in key order (a stable sort)
        return sorted(by_key, key=lambda r: float(pick(r)), reverse=reverse)
    by_key = sorted(rows, key=lambda r: r[0])
    present = [r for r in by_key if pick(r) not in (MISSING, None)]
    absent = [r for r in by_key if pick(r) in (MISSING, None)]
    return sorted(present, key=lambda r: _text(pick(r)), reverse=reverse) + absent
