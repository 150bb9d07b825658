"""Columns of a batch sent to PostgreSQL as one delimited string each, split by the server:
psycopg dumps a list parameter element by element in Python (in a profile under load, as long
as the server's work on the lookup and the totals). Keys, periods, paths and numbers hold no
comma; a column that does is sent as a list, as before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def split(cast: str) -> str:
    """The SQL of one column parameter, split into an array of `cast` (`text`, `float8`...)."""
    return f"string_to_array(%s, ',')::{cast}[]"


def listed(cast: str) -> str:
    return f"%s::{cast}[]"


def joined(columns: Sequence[Sequence[Any]]) -> list[str] | None:
    """The columns as delimited strings, or None if a value holds the delimiter or is None."""
    out = []
    for column in columns:
        if not column:
            return None  # string_to_array('') is empty, but so would be [''] joined
        text = ",".join(map(str, column))
        if not text or text.count(",") != len(column) - 1 or None in column:
            return None
        out.append(text)
    return out
