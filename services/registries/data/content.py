"""Pure helpers over record content: matching, search text, merging, diffs, ordering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import re2

from services.kernel.errors import BadRequest
from services.registries.catalog.schema import get_path


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value


def scalar_text(value: Any) -> str:
    """A value as query strings spell it: `true`, `3`, `2020-01-01`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def search_text(content: dict[str, Any]) -> str:
    """Lower-cased text of every leaf, for the `search` pre-filter in SQL."""
    return "\n".join(scalar_text(v).lower() for v in _leaves(content))


def contains_text(value: Any, needle: str) -> bool:
    lowered = needle.lower()
    return any(lowered in scalar_text(v).lower() for v in _leaves(value))


_REGEX_MARKS = frozenset("^$*+?[]{}|\\")
MAX_SEARCH_LENGTH = 200  # as the route declares it
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.case_sensitive = False
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 1 << 20  # compiled programs past ~1 MiB are refused, not built


class TextPattern(Protocol):
    def search(self, text: str) -> object | None: ...


def search_pattern(search: str) -> TextPattern | None:
    """`search` as a case-insensitive regex when it uses regex syntax (upstream supports regex);
    plain text (or text that is not a valid regex) stays a substring search.

    Patterns run on RE2, in time linear in the text: no backtracking, so no pattern can stall
    the service (`(a+)+$` included); RE2 lacks backreferences and lookaround, and such patterns
    are searched for as text, like any other invalid regex."""
    if len(search) > MAX_SEARCH_LENGTH:
        raise BadRequest(f"`search` is limited to {MAX_SEARCH_LENGTH} characters.")
    if not _REGEX_MARKS & set(search):
        return None
    try:
        pattern: TextPattern = re2.compile(search, _RE2_OPTIONS)
    except re2.error:
        return None
    return pattern


def matches_pattern(value: Any, pattern: TextPattern) -> bool:
    return any(pattern.search(scalar_text(v)) for v in _leaves(value))


def field_equals(content: dict[str, Any], path: str, wanted: str) -> bool:
    value = get_path(content, path)
    if isinstance(value, list):
        return any(scalar_text(v) == wanted for v in value)
    return value is not None and scalar_text(value) == wanted


def matches(content: Any, query: Any) -> bool:
    """Whether `content` holds everything `query` holds (objects compared as subsets)."""
    if isinstance(query, dict):
        if not isinstance(content, dict):
            return False
        return all(k in content and matches(content[k], v) for k, v in query.items())
    return bool(content == query)


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def diff(old: Any, new: Any, prefix: str = "") -> list[dict[str, Any]]:
    """What changed, path by path."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in sorted(set(old) | set(new)):
            path = f"{prefix}.{key}" if prefix else key
            changes.extend(diff(old.get(key), new.get(key), path))
        return changes
    if old == new:
        return []
    return [{"path": prefix or "(root)", "old": old, "new": new}]


def order_key(value: Any) -> tuple[int, Any]:
    """Sort numbers before strings; missing values last."""
    if value is None:
        return (2, "")
    if isinstance(value, bool | int | float):
        return (0, float(value))
    return (1, scalar_text(value))
