"""Shared helpers of the consent service: ids, time, canonical JSON, hashing, paging."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Annotated, Any

import orjson
from fastapi import Query

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


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces): what hashes and signatures are taken over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def sha1_hex(text: str) -> str:
    # The Consent BB spec names SHA-1 for revision hashes; kept for interoperability.
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Page:
    """`offset`/`limit` query parameters of the spec's LIST operations."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, description="Index of the first resource")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000, description="Number of resources")] = 100,
    ) -> None:
        self.offset = offset
        self.limit = limit
