"""Time-ordered identifiers for what is written on every call (message-log ids, trace ids).

Random ids scatter every insert across an index's pages: in the mediator's log, whose `x_road_id`
and `trace_id` are indexed, that doubled the writer's cost per record once the log held 10^5
records. A millisecond timestamp in front keeps each batch on the indexes' last pages; the rest
stays random.
"""

from __future__ import annotations

import os
import time

_VARIANT = "89ab89ab89ab89ab"  # RFC 9562 variant: the top two bits of the clock_seq field are 10


def uuid7() -> str:
    """A version 7 UUID (RFC 9562): 48-bit Unix milliseconds, then 74 random bits."""
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    rand = os.urandom(10).hex()
    return f"{stamp[:8]}-{stamp[8:]}-7{rand[:3]}-{_VARIANT[int(rand[3], 16)]}{rand[4:7]}-{rand[8:]}"


def trace_id() -> str:
    """A W3C trace id: 48-bit Unix milliseconds, then 80 random bits (AWS X-Ray's ids are
    time-prefixed alike; W3C Trace Context level 2 asks only the right-most 7 bytes be random)."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def span_id() -> str:
    """A random 64-bit W3C span (parent) id."""
    return os.urandom(8).hex()
