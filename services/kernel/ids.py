"""Time-ordered identifiers for what is written on every call (message-log ids, trace ids).

Random ids scatter every insert across an index's pages: in the mediator's log, whose `x_road_id`
and `trace_id` are indexed, that doubled the writer's cost per record once the log held 10^5
records. A millisecond timestamp in front keeps each batch on the indexes' last pages; the rest
stays random.
"""

from __future__ import annotations

import os
import threading
import time

POOL_BYTES = 4096
_VARIANT = "89ab89ab89ab89ab"  # RFC 9562 variant: the top two bits of the clock_seq field are 10


class _RandomPool:
    """Bytes from `os.urandom`, fetched 4 KiB at a time: a system call per id cost more than the
    rest of the id (ids are made several times per call on the mediator's path)."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Drop the pool (and a lock some other thread may have held at a fork)."""
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        with self._lock:
            at = self._at
            if at + size > len(self._pool):
                self._pool, at = os.urandom(POOL_BYTES), 0
            self._at = at + size
            return self._pool[at : at + size]


_random = _RandomPool()
# A forked child (the sandbox's preloader forks every service) must never hand out the bytes its
# parent or a sibling holds: it starts with an empty pool, filled from the OS in the child.
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork either
    os.register_at_fork(after_in_child=_random.forget)


def random_hex(size: int) -> str:
    """`size` random bytes (from the operating system's CSPRNG) as lower-case hex."""
    return _random.take(size).hex()


def uuid7() -> str:
    """A version 7 UUID (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    rand = random_hex(10)
    return f"{stamp[:8]}-{stamp[8:]}-7{rand[:3]}-{_VARIANT[int(rand[3], 16)]}{rand[4:7]}-{rand[8:]}"


def trace_id() -> str:
    """A W3C trace id: 48-bit Unix milliseconds, then 80 random bits (AWS X-Ray's ids are
    time-prefixed alike; W3C Trace Context level 2 asks only the right-most 7 bytes be random)."""
    return f"{time.time_ns() // 1_000_000:012x}{random_hex(10)}"


def span_id() -> str:
    """A random 64-bit W3C span (parent) id."""
    return random_hex(8)
