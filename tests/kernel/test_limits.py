"""The kernel's request limits as pure functions: JSON depth, route limits, paging values."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Header
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Scope

from services.kernel.errors import (
    DomainError,
    Unauthorized,
    install_error_handlers,
    problem_details,
)
from services.kernel.jsondepth import DepthScanner, TooDeep
from services.kernel.limits import BodyLimits, RequestLimitsMiddleware, has_body
from services.kernel.paging import MAX_PAGING_INT, paging_error
from services.kernel.prebody import header
from tests.security.hostile_support import raw_call

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


def _key(x_key: Annotated[str | None, Header()] = None) -> None:
    if x_key != "right":
        raise Unauthorized("key needed")


KeyDep = Annotated[None, Depends(_key)]


def _tiny_app() -> FastAPI:
    """A route whose credential is a header dependency and whose body is a model."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/items")
    def create(item: dict[str, int], _: KeyDep) -> dict[str, int]:
        return item

    return app


async def _prebody(scope: Scope) -> DomainError | None:
    return None if header(scope, "x-key") == "right" else Unauthorized("key needed")


@pytest.mark.anyio
async def test_fastapi_reads_the_body_before_header_dependencies_the_hook_does_not() -> None:
    chunks = [b'{"a": 1', b"}"]
    plain = {"content-type": "application/json"}
    right = {**plain, "x-key": "right"}
    bare = await raw_call(_tiny_app(), "POST", "/items", headers=plain, chunks=chunks)
    assert bare.status == 401 and bare.chunks_read == 2  # why the kernel hook exists
    guarded = RequestLimitsMiddleware(
        _tiny_app(), limits=BodyLimits(default=64), renderer=problem_details, authenticate=_prebody
    )
    refused = await raw_call(guarded, "POST", "/items", headers=plain, chunks=chunks)
    assert refused.status == 401 and refused.chunks_read == 0
    ok = await raw_call(guarded, "POST", "/items", headers=right, chunks=chunks)
    assert ok.status == 200 and ok.json() == {"a": 1}
    big = [b'{"a": 1', b" " * 60, b"}"]
    too_big = await raw_call(guarded, "POST", "/items", headers=right, chunks=big)
    assert too_big.status == 413 and too_big.chunks_read == 2
    assert too_big.json()["code"] == "payload-too-large"
