"""Time-ordered ids: valid UUIDv7 and W3C trace ids, unique, in time order across milliseconds."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from services.kernel.ids import random_hex, span_id, trace_id, uuid7
from services.kernel.tracing import parse_traceparent


def _next_millisecond() -> None:
    start = time.time_ns() // 1_000_000
    deadline = time.monotonic() + 1
    while time.time_ns() // 1_000_000 == start and time.monotonic() < deadline:
        pass


def test_uuid7_is_a_version_7_uuid_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    made = {uuid7() for _ in range(2000)}
    after = time.time_ns() // 1_000_000
    assert len(made) == 2000
    for value in made:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert before <= parsed.int >> 80 <= after


def test_ids_of_later_milliseconds_sort_after_earlier_ones() -> None:
    earlier = [uuid7(), trace_id()]
    _next_millisecond()
    later = [uuid7(), trace_id()]
    assert later[0] > earlier[0] and later[1] > earlier[1]


def test_trace_and_span_ids_are_what_w3c_trace_context_accepts() -> None:
    traces = {trace_id() for _ in range(2000)}
    assert len(traces) == 2000
    for value in list(traces)[:200]:
        span = span_id()
        assert len(value) == 32 and len(span) == 16
        parsed = parse_traceparent(f"00-{value}-{span}-01")
        assert parsed is not None and parsed.trace_id == value and parsed.span_id == span


def test_random_hex_spans_pool_refills_without_repeating() -> None:
    sizes = [10, 8, 16, 3] * 400  # about 2.4 pools' worth
    made = [random_hex(size) for size in sizes]
    assert [len(value) for value in made] == [2 * size for size in sizes]
    assert len(set(made)) == len(made)
    assert all(int(value, 16) >= 0 for value in made)


def _drawn_in_child() -> str:
    """What a forked child draws first from the pool it inherited (sent back through a pipe)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            os.write(write_end, random_hex(16).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        drawn = pipe.read().decode()
    os.waitpid(pid, 0)
    return drawn


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_forked_children_never_share_the_parents_pool() -> None:
    random_hex(1)  # the pool holds bytes the children inherit
    first, second = _drawn_in_child(), _drawn_in_child()
    own = random_hex(16)  # the parent's next bytes: what a child would repeat without a refill
    assert len({first, second, own}) == 3
    assert all(len(value) == 32 for value in (first, second, own))
