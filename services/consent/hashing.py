"""What hashes and signatures are taken over (canonical JSON), and the hashes themselves."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces): what hashes and signatures are taken over."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def sha1_hex(text: str) -> str:
    # The Consent BB spec names SHA-1 for revision hashes; kept for interoperability.
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
