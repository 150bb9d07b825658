"""The chain: canonical form of a record, its hash over the previous hash, and signatures."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.kernel.time import utc_micros

GENESIS = "0" * 64

# Everything but the chain's own fields; `seq` is hashed so that renumbering is detected.
HASHED_FIELDS = (
    "seq",
    "x_road_id",
    "request_id",
    "trace_id",
    "kind",
    "client",
    "service",
    "method",
    "path",
    "query",
    "status_code",
    "outcome",
    "started_at",
    "duration_us",
    "upstream_us",
    "request_hash",
    "subject_hash",
    "purpose",
    "decision_id",
    "consent_record_id",
    "error_type",
    "request_body",
    "response_body",
    "request_fields",
    "response_fields",
    "key_id",
)


_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
# A chain per replica: its records also hash the replica and their position in its chain.
# Records written before chains were per replica have no replica and keep the older form.
_SORTED_CHAIN_FIELDS = tuple(sorted((*HASHED_FIELDS, "replica", "position")))
LEGACY_REPLICA = "main"  # the chain that records without a replica belong to


def mark_name(kind: str, replica: str) -> str:
    """The mark `kind` (`head`, `anchor`) of `replica`'s chain (the legacy chain keeps its name)."""
    return kind if replica == LEGACY_REPLICA else f"{kind}:{replica}"


def _plain(value: Any) -> Any:
    # zone-less UTC, always with microseconds (`isoformat()` alone omits zero microseconds)
    return utc_micros(value) if isinstance(value, datetime) else value


def _encode_other(value: Any) -> Any:
    if isinstance(value, datetime):
        return _plain(value)
    raise TypeError(f"{type(value).__name__} is not part of a log record")


# Same bytes as json.dumps({name: _plain(value)}, sort_keys=True, separators=(",", ":"),
# ensure_ascii=True), with the keys put in order once instead of sorted per record and
# datetimes converted only where they occur: the canonical form must never change.
_CANONICAL = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, default=_encode_other)


def _canonical(document: dict[str, Any]) -> bytes:
    # orjson writes the same bytes as `_CANONICAL` whenever its output is plain ASCII without
    # DEL (json escapes non-ASCII and DEL, orjson does not) and no integer exceeds 64 bits
    # (orjson refuses those); records hold no floats. Anything else takes the json encoder.
    try:
        fast = orjson.dumps(document, default=_encode_other, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except TypeError:
        fast = None
    if fast is not None and fast.isascii() and b"\x7f" not in fast:
        return fast
    return _CANONICAL.encode(document).encode()


def record_digest(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the record's canonical JSON."""
    get = fields.get
    names = _SORTED_FIELDS if get("replica") is None else _SORTED_CHAIN_FIELDS
    document = {name: get(name) for name in names}
    started = document["started_at"]
    if type(started) is datetime:  # the one datetime field: no call back from orjson for it
        document["started_at"] = utc_micros(started)
    canonical = _canonical(document)
    return hashlib.sha256(b"%s\n%s" % (prev_hash.encode(), canonical)).hexdigest()


def mark_message(name: str, seq: int, record_hash: str) -> bytes:
    return f"{name}:{seq}:{record_hash}".encode()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def check_signature(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), message)
    except Exception:  # invalid signature or undecodable value both mean "not signed by us"
        return False
    return True


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id_of(pem: str) -> str:
    return hashlib.sha256(pem.encode()).hexdigest()[:16]


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("message log key is not Ed25519")
    return key


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key in the data directory, created (owner-only) on first use."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return key
