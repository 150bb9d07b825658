"""A JSON data value set read as it arrives (ijson's yajl2 C backend): the set's attributes into
`head`, its `dataValues` one by one.

Object order is free in JSON, and DHIS2 binds the whole document before importing, so an
attribute after `dataValues` still applies to every value. Here it does as long as nothing has
been written: a set of fewer than `BATCH` values is imported once the document has ended. Past
that, `head` is what the first batch was imported with; an attribute the import reads (`dataSet`,
`period`, `orgUnit`, `attributeOptionCombo`, an import option such as `dryRun` or `idScheme`) that
arrives later with another value refuses the rest of the payload, naming it, rather than leaving
its values under a default. A top-level key
given twice is refused too (a stream cannot let the last one win over values already written)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

import ijson

from services.kernel.jsondepth import DepthScanner, TooDeep
from services.sectoral_platform.aggregate import setoptions
from services.sectoral_platform.aggregate.streamed import BATCH
from services.sectoral_platform.aggregate.xmlsafe import FormatError

Event = tuple[str, Any]
# attributes every value of a batch is validated with (`completeDate` is used once, at the end),
# and the set's own import options (`setoptions.py`)
APPLIED = ("dataSet", "period", "orgUnit", "attributeOptionCombo", *setoptions.APPLIED)
# what one data value or attribute may hold (a data value has about a dozen parts), and the
# attributes a set may have (DHIS2's has about fifteen): a batch's memory stays bounded
MAX_PARTS = 256
MAX_KEYS = 256
_SCALARS = frozenset(("string", "number", "boolean", "null"))


def _message(exc: Exception) -> str:
    """yajl's message and the text around the spot, on one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    near = [line for line in lines[1:] if "(right here)" not in line]
    return lines[0] + (f" near `{near[0]}`" if near else "") if lines else str(exc)


def json_events(chunks: Iterator[bytes], *, check_depth: Callable[[], bool]) -> Iterator[Event]:
    """Parser events as the chunks arrive; those before a malformed spot come first, then its
    error. `check_depth()`, asked once the first chunk came: the kernel's nesting limit is applied
    here too (to bytes the kernel did not see: an inflated body)."""
    return chain.from_iterable(_event_lists(chunks, check_depth))  # no Python frame an event


def _event_lists(chunks: Iterator[bytes], check_depth: Callable[[], bool]) -> Iterator[list[Event]]:
    events: list[Event] = ijson.sendable_list()
    parser = ijson.basic_parse_coro(events, use_float=True)
    scanner: DepthScanner | None = None
    first = True
    try:
        for chunk in chunks:
            if not chunk:
                continue  # to the parser, an empty chunk is the end of the document
            if first:
                scanner, first = DepthScanner() if check_depth() else None, False
            if scanner is not None:
                scanner.feed(chunk)
            parser.send(chunk)
            yield list(events)
            del events[:]
        parser.close()
        yield list(events)
    except ijson.JSONError as exc:
        yield list(events)
        raise FormatError(f"JSON parse error: {_message(exc)}") from exc
    except TooDeep as exc:
        raise FormatError(f"JSON parse error: {exc}") from exc


def _build(events: Iterator[Event], event: str, value: Any) -> Any:
    """One JSON value whose first event is `event`; nested values without recursion."""
    if event in _SCALARS:
        return value
    root: Any = {} if event == "start_map" else []
    stack: list[tuple[Any, Any]] = []
    current, key, seen = root, None, 0
    in_map = event == "start_map"
    for event, value in events:
        if event == "map_key":
            key = value
            continue
        seen += 1
        if seen > MAX_PARTS:
            raise FormatError(f"JSON parse error: a value holds more than {MAX_PARTS} parts")
        if event in _SCALARS:
            if in_map:
                current[key] = value
            else:
                current.append(value)
        elif event == "end_map" or event == "end_array":
            if not stack:
                return root
            current, key = stack.pop()
            in_map = type(current) is dict
        else:
            item: Any = {} if event == "start_map" else []
            if in_map:
                current[key] = item
            else:
                current.append(item)
            stack.append((current, key))
            current, in_map = item, event == "start_map"
    raise FormatError("JSON parse error: the document ended inside a value")


class _Set:
    """Where the set stands: its attributes, values yielded, what the first batch applied."""

    def __init__(self, head: dict[str, Any]) -> None:
        self.head = head
        self.keys: set[str] = set()
        self.count = 0
        self.applied: dict[str, Any] | None = None

    def attribute(self, key: str, value: Any) -> None:
        if key in self.keys:
            raise FormatError(f"JSON parse error: the data value set gives `{key}` twice")
        self.keys.add(key)
        if len(self.keys) > MAX_KEYS:
            raise FormatError(f"JSON parse error: the data value set has more than {MAX_KEYS} keys")
        if self.applied is not None and key in APPLIED and self.applied.get(key) != value:
            written = BATCH * (self.count // BATCH)
            raise FormatError(
                f"`{key}` comes after {self.count} data values, {written} of them already imported "
                f"without it: a data value set of more than {BATCH} values gives its attributes "
                "before `dataValues`"
            )
        self.head[key] = value


def json_values(events: Iterator[Event], head: dict[str, Any]) -> Iterator[Any]:
    """A data value set's `dataValues` as they come; `head` gets its other keys. A batch is
    imported after `BATCH` values were yielded: the attributes are then taken as they stand."""
    state = _Set(head)
    first = next(events, None)
    if first is None or first[0] != "start_map":
        raise FormatError("JSON parse error: a data value set must be an object")
    for event, key in events:
        if event == "end_map":
            break
        event, value = next(events, ("", None))  # the parser raises on a premature end first
        if key != "dataValues":
            state.attribute(key, _build(events, event, value))
            continue
        if key in state.keys:
            raise FormatError("JSON parse error: the data value set gives `dataValues` twice")
        state.keys.add(key)
        if event == "null":
            continue
        if event != "start_array":
            raise FormatError("JSON parse error: `dataValues` must be a list")
        try:
            for event, value in events:
                if event == "end_array":
                    break
                yield _build(events, event, value)
                state.count += 1
                if state.count == BATCH:  # resumed after the consumer imported the first batch
                    state.applied = {k: head.get(k) for k in APPLIED}
        except FormatError as error:
            raise FormatError(f"{error} (`dataValues` index {state.count})") from error
    for _ in events:  # the parser refuses trailing garbage; nothing else can follow
        pass
