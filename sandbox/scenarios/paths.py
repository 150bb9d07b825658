"""JSON paths as scenario files write them: `$.identity.token`, `rows[0][2]`, `items[*].id`."""

from __future__ import annotations

import re
from typing import Any

Segment = str | int | None  # None is the `[*]` wildcard

_TOKEN = re.compile(
    r"""\.?(?:
        \[(?P<index>-?\d+)\]
      | \[(?P<star>\*)\]
      | \[(?P<quote>['"])(?P<quoted>.*?)(?P=quote)\]
      | (?P<name>[^.\[\]]+)
    )""",
    re.VERBOSE,
)


class PathError(ValueError):
    """A JSON path that cannot be parsed."""


def parse_path(path: str) -> list[Segment]:
    """The segments of a path; `$` alone (or empty) is the whole document."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    segments: list[Segment] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise PathError(f"bad JSON path {path!r} at character {position + 1}")
        if match.group("index") is not None:
            segments.append(int(match.group("index")))
        elif match.group("star"):
            segments.append(None)
        elif match.group("quote"):
            segments.append(match.group("quoted"))
        else:
            name = match.group("name")
            if name == "*":
                segments.append(None)
            else:
                segments.append(int(name) if name.lstrip("-").isdigit() else name)
        position = match.end()
    return segments


_MISSING = object()


def _step(value: Any, segment: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(str(segment), _MISSING)
    if isinstance(value, list) and isinstance(segment, int):
        return value[segment] if -len(value) <= segment < len(value) else _MISSING
    return _MISSING


def _walk(value: Any, segments: list[Segment]) -> Any:
    for position, segment in enumerate(segments):
        if segment is None:
            if isinstance(value, dict):
                items = list(value.values())
            elif isinstance(value, list):
                items = value
            else:
                return _MISSING
            rest = segments[position + 1 :]
            found = [_walk(item, rest) for item in items]
            return [item for item in found if item is not _MISSING]
        value = _step(value, segment)
        if value is _MISSING:
            return _MISSING
    return value


def resolve(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) at `path`; a wildcard yields the list of every match."""
    value = _walk(document, parse_path(path))
    if value is _MISSING:
        return False, None
    return True, value
