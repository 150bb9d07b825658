"""Paging parameters past 32 bits are refused before routing, for every endpoint at once.

`offset=10**30` reaches the database as a 64-bit bind parameter and fails there (a 500); DHIS2,
GovStack and FHIR page with 32-bit integers. Negative values and non-numbers are left to the
route, which knows its minimum and its error wording."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from services.kernel.errors import BadRequest

MAX_PAGING_INT = 2**31 - 1
PAGING_PARAMS = frozenset(
    {
        "page",
        "pageSize",
        "page_size",
        "pageNumber",
        "per_page",
        "offset",
        "_offset",
        "limit",
        "skip",
        "first",
        "max",
        "count",
        "_count",
        "size",
    }
)
_LONG_NUMBER = re.compile(rb"\d{10}")
_INTEGER = re.compile(r"[+-]?\d+")


def paging_error(query_string: bytes) -> BadRequest | None:
    """A 400 naming the first paging parameter whose integer value exceeds 32 bits."""
    if not _LONG_NUMBER.search(query_string):
        return None  # the common case: no ten-digit number anywhere
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        text = value.strip()
        if name not in PAGING_PARAMS or not _INTEGER.fullmatch(text):
            continue
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > 10 or int(digits or "0") > MAX_PAGING_INT:
            return BadRequest(
                f"Query parameter `{name}` must be an integer of at most {MAX_PAGING_INT}.",
                code="paging-out-of-range",
            )
    return None
