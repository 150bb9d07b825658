"""Link a batch into the chain: each record gets its number, position and the previous hash."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.interop_layer.messagelog.bodies import derive_bodies
from services.interop_layer.messagelog.chain import mark_name, record_digest, sign
from services.interop_layer.messagelog.store import mark_values


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


def link_signed(
    batch: list[dict[str, Any]],
    numbers: Iterable[int],
    *,
    position: int,
    prev: str,
    key: Ed25519PrivateKey,
    key_id: str,
    replica: str,
    sign_last: bool,
) -> dict[str, Any]:
    """`link` the batch, sign its last record if `sign_last`: the values of its signed head mark.

    The signed head vouches for every record through the chain. A record signature also names,
    when verification fails, the records it vouches for (X-Road time-stamps batches alike).
    """
    position, prev = link(
        batch, numbers, position=position, prev=prev, key_id=key_id, replica=replica
    )
    if sign_last:
        batch[-1]["signature"] = sign(key, prev.encode())
    return mark_values(
        name=mark_name("head", replica), seq=position, digest=prev, key=key, key_id=key_id
    )
