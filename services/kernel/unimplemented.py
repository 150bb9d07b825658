"""A part of an upstream request the sandbox does not implement: refused by name when given.

Pydantic ignores (or, with `extra="forbid"`, calls "extra") a field it does not know. A field the
upstream system defines but the sandbox does not implement is neither: it is declared with
`refuse_given(<upstream>)`, so a request giving it a value fails validation at that field, and
each service's one validation renderer names it in its own error shape. An absent, `null` or
empty value is what clients send for a part they do not use, and is accepted as absent.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic_core import PydanticCustomError

NOT_IMPLEMENTED = "not_implemented"
_EMPTY: tuple[object, ...] = ("", [], {})


def refuse_given(upstream: str) -> Callable[[object], None]:
    """A before-validator refusing any value but an empty one, naming `upstream`."""

    def refuse(value: object) -> None:
        if value is None or any(value == empty for empty in _EMPTY):
            return None
        raise PydanticCustomError(
            NOT_IMPLEMENTED,
            "defined by {upstream}, not implemented by this sandbox",
            {"upstream": upstream},
        )

    return refuse
