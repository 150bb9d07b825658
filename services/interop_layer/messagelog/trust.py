"""Trust kept outside the database: the pinned signing keys and signed head anchors.

A verifier that took its keys and its idea of the chain's length from the database it checks
would accept anything an attacker with write access re-hashes and re-signs. So the mediator
exports its public keys (`keys.json`) and, periodically and at shutdown, a signed head anchor
(`head.json`) into `<data dir>/interop_layer/trust/`; `dpi log verify` records the last head it
verified (`verified.json`) there too. Whoever can rewrite these files can defeat the check:
keep a copy elsewhere (`dpi log verify --keys`, `--anchor`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.interop_layer.messagelog.chain import (
    LEGACY_REPLICA,
    check_signature,
    load_public,
    sign,
)
from services.kernel.time import iso_offset, utcnow

log = logging.getLogger("dpi.interop.messagelog")
KEYS_FILE = "keys.json"
HEAD_FILE = "head.json"  # the `main` replica's; another replica's is `head-<replica>.json`
VERIFIED_FILE = "verified.json"


def head_file(replica: str) -> str:
    return HEAD_FILE if replica == LEGACY_REPLICA else f"head-{replica}.json"


def head_files(directory: Path) -> list[Path]:
    """Every replica's exported head anchor in `directory`."""
    return sorted(directory.glob("head*.json"))


class TrustError(Exception):
    """A trust file is missing, unreadable or not what it claims to be."""


def trust_dir(state_dir: Path) -> Path:
    return state_dir / "trust"


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Replace `path` atomically: a reader (or a crash) sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(temporary, path)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise TrustError(f"no {what} at {path}") from None
    except (OSError, ValueError) as exc:
        raise TrustError(f"the {what} at {path} is unreadable: {exc}") from None
    if not isinstance(document, dict):
        raise TrustError(f"the {what} at {path} is not a JSON object")
    return document


def read_keys(path: Path) -> dict[str, str]:
    """The pinned public keys, key id → PEM."""
    document = _read_json(path, "pinned key file")
    keys: dict[str, str] = {}
    for entry in document.get("keys") or []:
        if not isinstance(entry, dict):
            raise TrustError(f"the pinned key file at {path} has a malformed entry")
        key_id, pem = entry.get("keyId"), entry.get("publicKey")
        if not isinstance(key_id, str) or not isinstance(pem, str):
            raise TrustError(f"the pinned key file at {path} has an entry without keyId/publicKey")
        try:
            load_public(pem)
        except ValueError as exc:
            raise TrustError(f"pinned key {key_id} at {path} is not an Ed25519 key") from exc
        keys[key_id] = pem
    if not keys:
        raise TrustError(f"the pinned key file at {path} holds no keys")
    return keys


def pin_key(path: Path, *, key_id: str, pem: str) -> dict[str, str]:
    """Add the mediator's key to the pinned set (first start, or a new key); the set it holds."""
    keys: list[dict[str, Any]] = []
    if path.exists():
        keys = list(_read_json(path, "pinned key file").get("keys") or [])
    if not any(entry.get("keyId") == key_id for entry in keys):
        keys.append({"keyId": key_id, "publicKey": pem, "pinnedAt": iso_offset(utcnow())})
        _write_json(path, {"algorithm": "Ed25519", "keys": keys})
    return read_keys(path)


@dataclass(frozen=True, slots=True)
class HeadAnchor:
    """Where a replica's chain stood at `time` (`seq`: the position in it), signed by the
    mediator. `record_seq` is the head record's number in the whole log, when known; an anchor
    exported before chains were per replica (`legacy`) names no replica: the `main` chain's."""

    seq: int
    record_hash: str
    time: str
    key_id: str
    signature: str
    replica: str = LEGACY_REPLICA
    record_seq: int | None = None
    legacy: bool = False

    def message(self) -> bytes:
        if self.legacy:
            return f"head-anchor:{self.seq}:{self.record_hash}:{self.time}".encode()
        return anchor_message(self.replica, self.seq, self.record_seq, self.record_hash, self.time)

    def document(self) -> dict[str, Any]:
        if self.legacy:
            return {
                "seq": self.seq,
                "recordHash": self.record_hash,
                "time": self.time,
                "keyId": self.key_id,
                "signature": self.signature,
            }
        return {
            "replica": self.replica,
            "position": self.seq,
            "recordSeq": self.record_seq,
            "recordHash": self.record_hash,
            "time": self.time,
            "keyId": self.key_id,
            "signature": self.signature,
        }


def anchor_message(
    replica: str, position: int, record_seq: int | None, record_hash: str, time: str
) -> bytes:
    number = "" if record_seq is None else record_seq
    return f"head-anchor:{replica}:{position}:{number}:{record_hash}:{time}".encode()


def export_anchor(
    path: Path,
    *,
    replica: str,
    seq: int,
    record_seq: int | None,
    record_hash: str,
    key: Ed25519PrivateKey,
    key_id: str,
) -> HeadAnchor:
    time = iso_offset(utcnow()) or ""
    signature = sign(key, anchor_message(replica, seq, record_seq, record_hash, time))
    anchor = HeadAnchor(seq, record_hash, time, key_id, signature, replica, record_seq)
    _write_json(path, anchor.document())
    return anchor


def read_anchor(path: Path, pinned: dict[str, str]) -> HeadAnchor:
    """The mediator's exported head anchor, its signature checked against the pinned keys."""
    document = _read_json(path, "head anchor")
    legacy = "replica" not in document
    try:
        record_seq = document.get("recordSeq")
        anchor = HeadAnchor(
            seq=int(document["seq" if legacy else "position"]),
            record_hash=str(document["recordHash"]),
            time=str(document["time"]),
            key_id=str(document["keyId"]),
            signature=str(document["signature"]),
            replica=LEGACY_REPLICA if legacy else str(document["replica"]),
            record_seq=None if record_seq is None else int(record_seq),
            legacy=legacy,
        )
    except (KeyError, TypeError, ValueError):
        raise TrustError(f"the head anchor at {path} is malformed") from None
    pem = pinned.get(anchor.key_id)
    if pem is None:
        raise TrustError(f"the head anchor at {path} is signed by unpinned key {anchor.key_id}")
    if not check_signature(load_public(pem), anchor.message(), anchor.signature):
        raise TrustError(f"the head anchor at {path} has an invalid signature")
    return anchor


def read_verified(path: Path) -> dict[str, tuple[int, str]]:
    """The last head this verifier proved per chain (replica → position, record hash); a file
    from before chains were per replica holds the `main` chain's."""
    if not path.exists():
        return {}
    document = _read_json(path, "verifier's own anchor")
    try:
        if "chains" not in document:
            return {LEGACY_REPLICA: (int(document["seq"]), str(document["recordHash"]))}
        return {
            str(replica): (int(entry["position"]), str(entry["recordHash"]))
            for replica, entry in dict(document["chains"]).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise TrustError(f"the verifier's own anchor at {path} is malformed") from None


def write_verified(path: Path, chains: dict[str, tuple[int, str]]) -> None:
    """Record the heads just proved; a chain's anchor never moves backwards."""
    merged: dict[str, tuple[int, str]] = {}
    with contextlib.suppress(FileNotFoundError, TrustError):
        merged = read_verified(path)
    for replica, (position, digest) in chains.items():
        if replica not in merged or merged[replica][0] <= position:
            merged[replica] = (position, digest)
    document = {
        replica: {"position": position, "recordHash": digest}
        for replica, (position, digest) in sorted(merged.items())
    }
    _write_json(path, {"chains": document, "verifiedAt": iso_offset(utcnow())})


class TrustExport:
    """The mediator's side: pins its key and exports signed head anchors to `directory`, except
    when the database no longer reaches the anchor already there (that file is the evidence)."""

    def __init__(
        self,
        directory: Path | None,
        *,
        key: Ed25519PrivateKey,
        key_id: str,
        pem: str,
        interval: float,
        replica: str = LEGACY_REPLICA,
    ) -> None:
        self.directory = directory
        self.replica = replica
        self.key, self.key_id, self.pem = key, key_id, pem
        self.interval = interval
        self.pinned: dict[str, str] = {key_id: pem}
        self.anchor: HeadAnchor | None = None
        self.frozen = False
        self._exported_at = 0.0

    def open(
        self,
        reaches: Callable[[HeadAnchor], bool],
        *,
        head_seq: int,
        head_hash: str,
        record_seq: int | None = None,
    ) -> None:
        """Pin the key; keep or renew this replica's head anchor (`reaches` asks the log)."""
        if self.directory is None:
            return
        self.pinned = pin_key(self.directory / KEYS_FILE, key_id=self.key_id, pem=self.pem)
        path = self.directory / head_file(self.replica)
        if path.exists():
            try:
                previous = read_anchor(path, self.pinned)
            except TrustError as exc:
                problem = str(exc)
            else:
                if reaches(previous):
                    self.export(head_seq, head_hash, record_seq)
                    return
                self.anchor = previous
                problem = f"the log no longer reaches its exported head anchor (seq {previous.seq})"
            self.frozen = True
            log.error("message log: %s; %s is kept as it is and not updated", problem, path)
            return
        self.export(head_seq, head_hash, record_seq)

    def due(self) -> bool:
        return time.monotonic() - self._exported_at >= self.interval

    def export(self, seq: int, record_hash: str, record_seq: int | None = None) -> None:
        if self.directory is None or self.frozen:
            return
        self.anchor = export_anchor(
            self.directory / head_file(self.replica),
            replica=self.replica,
            seq=seq,
            record_seq=record_seq,
            record_hash=record_hash,
            key=self.key,
            key_id=self.key_id,
        )
        self._exported_at = time.monotonic()
