"""The kernel's request limits as pure functions: JSON depth, route limits, paging values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.kernel.jsondepth import DepthScanner, TooDeep
from services.kernel.limits import BodyLimits, has_body
from services.kernel.paging import MAX_PAGING_INT, paging_error

TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\n', max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
    max_leaves=30,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def scan(body: bytes, chunk: int, limit: int) -> bool:
    """Whether the scanner accepts `body` fed in pieces of `chunk` bytes."""
    scanner = DepthScanner(limit)
    try:
        for start in range(0, len(body), chunk):
            scanner.feed(body[start : start + chunk], last=start + chunk >= len(body))
    except TooDeep:
        return False
    return True


def nest(value: Any, levels: int) -> Any:
    for _ in range(levels):
        value = [value] if levels % 2 else {"k": value}
    return value


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, chunk=st.integers(min_value=1, max_value=40))
def test_brackets_inside_strings_and_escapes_never_count(value: Any, chunk: int) -> None:
    body = json.dumps(value).encode()
    depth = depth_of(value)
    # a chunk's bound counts its closed nesting on top of its unclosed opens: at most twice
    assert scan(body, chunk, limit=max(2 * depth, 1))
    assert scan(body, len(body) or 1, limit=max(depth, 1))  # one chunk: exact


@settings(max_examples=100, deadline=None)
@given(value=JSON_VALUES, extra=st.integers(min_value=1, max_value=30), chunk=st.integers(1, 64))
def test_nesting_past_the_limit_is_caught_however_the_body_is_cut(
    value: Any, extra: int, chunk: int
) -> None:
    deep = nest(value, 64 + extra)
    assert depth_of(deep) > 64
    assert not scan(json.dumps(deep).encode(), chunk, limit=64)


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_a_nesting_bomb_is_refused_in_bounded_work(depth: int) -> None:
    assert not scan(b"[" * depth + b"]" * depth, 65536, limit=64)
    assert not scan(b'{"a":' * depth + b"1" + b"}" * depth, 7, limit=64)


def test_sixty_four_levels_pass() -> None:
    assert scan(b"[" * 64 + b"]" * 64, 1 << 20, limit=64)
    assert scan(json.dumps(nest(1, 64)).encode(), 1 << 20, limit=64)


def test_the_longest_matching_prefix_sets_the_limit() -> None:
    limits = BodyLimits(default=10, prefixes={"/api/": 20, "/api/metadata": 30})
    assert limits.for_path("/other") == 10
    assert limits.for_path("/api/dataElements") == 20
    assert limits.for_path("/api/metadata") == 30
    assert limits.for_path("/api/metadata/x") == 30


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], False),
        ([(b"content-length", b"0")], False),
        ([(b"content-length", b"12")], True),
        ([(b"transfer-encoding", b"chunked")], True),
    ],
)
def test_what_counts_as_a_body(headers: list[tuple[bytes, bytes]], expected: bool) -> None:
    assert has_body({"headers": headers}) is expected


@pytest.mark.parametrize(
    "query",
    [
        f"offset={MAX_PAGING_INT + 1}",
        f"page=-{MAX_PAGING_INT + 1}",
        "limit=" + "9" * 5000,
        "a=1&pageSize=99999999999999999999",
        "_count=%2B9223372036854775808",
    ],
)
def test_paging_values_past_32_bits_are_refused(query: str) -> None:
    error = paging_error(query.encode())
    assert error is not None and error.status == 400


@pytest.mark.parametrize(
    "query",
    [
        f"offset={MAX_PAGING_INT}",
        "page=0000000000001",
        "limit=abc",
        "uin=98765432109876",  # not a paging parameter: an identifier
        "offset=-1",  # the route's own minimum decides
        "",
    ],
)
def test_other_values_are_left_to_the_route(query: str) -> None:
    assert paging_error(query.encode()) is None
