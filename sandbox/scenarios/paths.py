"""JSON paths as scenario files write them (`$.identity.token`, `rows[0][2]`, `items[*].id`):
RFC 9535 JSONPath through `python-jsonpath`, the leading `$` optional.

A singular query (names and indexes only) yields its one value; any other (wildcards, slices,
filters, descendants) yields the list of every match, possibly empty.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonpath
from jsonpath import JSONPath, JSONPathError

_DOTTED_INDEX = re.compile(r"\.-?\d")


class PathError(ValueError):
    """A JSON path that cannot be parsed."""


@lru_cache(maxsize=1024)
def parse_path(path: str) -> JSONPath:
    """The compiled path; `$` alone (or empty) is the whole document."""
    text = path.strip()
    if not text.startswith("$"):  # `a.b` is `$.a.b`: a bare first name is never a keyword
        text = "$" + text if text.startswith("[") else f"$.{text}" if text else "$"
    try:
        compiled = jsonpath.compile(text)
    except JSONPathError as exc:
        reason = str(exc).splitlines()[0]
        if _DOTTED_INDEX.search(path):
            reason += " (an index is written `[0]`, not `.0`)"
        raise PathError(f"bad JSON path {path!r}: {reason}") from None
    if not isinstance(compiled, JSONPath):  # a compound query (`a | b`, `a & b`)
        raise PathError(f"bad JSON path {path!r}: one query, not a union or intersection")
    return compiled


def resolve(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at `path`; a non-singular query yields the list of every match."""
    query = parse_path(path)
    values = [match.obj for match in query.finditer(document)]
    if not query.singular_query():
        return True, values
    if not values:
        return False, None
    return True, values[0]
