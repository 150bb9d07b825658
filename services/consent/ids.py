"""The consent service's ids: random and time-ordered UUIDs, and checking a presented one."""

from __future__ import annotations

import secrets
import time
import uuid

from services.kernel.errors import BadRequest


def new_id() -> str:
    return str(uuid.uuid4())


def time_ordered_id() -> str:
    """A UUIDv7 (RFC 9562): ids of append-only rows stay in insertion order in their index."""
    millis = time.time_ns() // 1_000_000
    random_bits = secrets.randbits(74)
    value = (
        (millis & (2**48 - 1)) << 80
        | 0x7 << 76
        | (random_bits >> 62) << 64
        | 0b10 << 62
        | (random_bits & (2**62 - 1))
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def check_id(value: str, what: str = "id") -> str:
    """Ids are UUIDs; anything else is a malformed id (400), not an unknown one (404)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(
            f"Malformed {what}: {value!r} is not a UUID.", code="malformed-id"
        ) from None
