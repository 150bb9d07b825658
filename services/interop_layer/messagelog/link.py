"""Link a batch into the chain: each record gets its number, position and the previous hash."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from services.interop_layer.messagelog.bodies import derive_bodies
from services.interop_layer.messagelog.chain import record_digest


def link(
    batch: list[dict[str, Any]],
    numbers: Iterable[int],
    *,
    position: int,
    prev: str,
    key_id: str,
    replica: str,
) -> tuple[int, str]:
    """Complete the batch's records in place (unsigned) after the chain's `position` with hash
    `prev`; the position and hash of its last record."""
    for fields, seq in zip(batch, numbers, strict=True):
        derive_bodies(fields)
        position += 1
        fields["seq"], fields["key_id"] = seq, key_id
        fields["replica"], fields["position"] = replica, position
        digest = record_digest(prev, fields)
        fields["prev_hash"], fields["record_hash"], fields["signature"] = prev, digest, ""
        prev = digest
    return position, prev
