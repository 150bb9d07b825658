"""Verify the message log: every link, hash and signature, from the purge anchor to the head.

A signed record vouches for the unsigned ones before it through the hash links (the writer signs
a batch's last record at rest, and under load at most every signature interval; older chains: every
batch or every record), and the head, signed on every commit, for all of them, so a change anywhere
fails a hash, a link or a signature.

Trust comes from outside the database when it is given (`pinned` keys, `known` heads): every
key the database lists must be pinned (same key), signatures count only under pinned keys, and
the log must still hold each known head (seq and hash) unless a signed purge anchor covers it.
`verify_database(url, ...)` is the plain entry point for the command line (`dpi log verify`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, col, select

from services.interop_layer.messagelog.chain import (
    GENESIS,
    check_signature,
    load_public,
    mark_message,
    record_digest,
)
from services.interop_layer.messagelog.models import LogKey, LogMark, LogRecord, VerifyReport
from services.kernel.db import Database


def _bad(checked: int, record: LogRecord | None, reason: str, **extra: int | None) -> VerifyReport:
    return VerifyReport(
        ok=False,
        checked=checked,
        first_bad_seq=None if record is None else record.seq,
        first_bad_x_road_id=None if record is None else record.x_road_id,
        reason=reason,
        **extra,
    )


@dataclass(frozen=True, slots=True)
class KnownHead:
    """A head proved earlier (exported by the mediator or verified before): `what` names it."""

    seq: int
    record_hash: str
    what: str


def _keys(
    session: Session, pinned: dict[str, str] | None
) -> tuple[dict[str, Ed25519PublicKey], str | None]:
    """The keys signatures are checked with, and what is wrong with the database's key table."""
    stored = {k.key_id: k.public_key for k in session.exec(select(LogKey))}
    if pinned is None:
        return {key_id: load_public(pem) for key_id, pem in stored.items()}, None
    for key_id, pem in sorted(stored.items()):
        if key_id not in pinned:
            return {}, f"key {key_id} in the database is not pinned (a key was added)"
        if pinned[key_id].strip() != pem.strip():
            return {}, f"key {key_id} in the database differs from the pinned key (swapped)"
    return {key_id: load_public(pem) for key_id, pem in pinned.items()}, None


def _mark_ok(mark: LogMark, keys: dict[str, Ed25519PublicKey]) -> bool:
    public = keys.get(mark.key_id)
    message = mark_message(mark.name, mark.seq, mark.record_hash)
    return public is not None and check_signature(public, message, mark.signature)


def verify_session(
    session: Session, *, pinned: dict[str, str] | None = None, known: Sequence[KnownHead] = ()
) -> VerifyReport:
    """Walk the chain in order; the first record that does not fit is named in the report."""
    anchor = session.get(LogMark, "anchor")
    head = session.get(LogMark, "head")
    extra = {"head_seq": head.seq if head else None, "anchor_seq": anchor.seq if anchor else None}
    keys, key_problem = _keys(session, pinned)
    if key_problem is not None:
        return _bad(0, None, key_problem, **extra)
    if anchor is not None and not _mark_ok(anchor, keys):
        return _bad(0, None, "the purge anchor's signature is invalid", **extra)
    if head is not None and not _mark_ok(head, keys):
        return _bad(0, None, "the chain head's signature is invalid", **extra)
    seq, prev = (anchor.seq, anchor.record_hash) if anchor else (0, GENESIS)
    expected: dict[int, KnownHead] = {}
    for mark in known:
        if mark.seq > seq:  # at or before the purge anchor: vouched for by its signature
            expected.setdefault(mark.seq, mark)
        elif mark.seq == seq and mark.record_hash != prev:
            return _bad(0, None, f"the purge anchor diverges from the {mark.what}", **extra)
    checked = 0
    unproven: int | None = None  # the first record not yet vouched for by a signature
    records = session.exec(select(LogRecord).order_by(col(LogRecord.seq))).yield_per(500)
    for record in records:
        if head is not None and record.seq > head.seq:
            return _bad(checked, record, "record lies past the signed chain head", **extra)
        if record.seq != seq + 1:
            if record.seq > seq + 1:
                reason = f"record(s) {seq + 1}..{record.seq - 1} are missing before this one"
            else:
                reason = f"sequence number {record.seq} does not follow {seq}"
            return _bad(checked, record, reason, **extra)
        if record.prev_hash != prev:
            return _bad(checked, record, "does not link to the previous record", **extra)
        fields = record.model_dump()
        if record_digest(prev, fields) != record.record_hash:
            return _bad(checked, record, "content does not match its hash (modified)", **extra)
        if record.signature:
            public = keys.get(record.key_id)
            if public is None or not check_signature(
                public, record.record_hash.encode(), record.signature
            ):
                vouched = "" if unproven is None else f" (it vouches for {unproven}..{record.seq})"
                reason = f"signature is invalid or the key is unknown{vouched}"
                return _bad(checked, record, reason, **extra)
            unproven = None
        elif unproven is None:
            unproven = record.seq
        known_head = expected.get(record.seq)
        if known_head is not None:
            del expected[record.seq]
        if known_head is not None and known_head.record_hash != record.record_hash:
            reason = f"differs from the {known_head.what}: the log was rewritten"
            return _bad(checked, record, reason, **extra)
        seq, prev = record.seq, record.record_hash
        checked += 1
    if expected:
        longest = expected[max(expected)]
        reason = (
            f"record(s) {seq + 1}..{longest.seq} are missing: the log is shorter than the "
            f"{longest.what}"
        )
        report = _bad(checked, None, reason, **extra)
        report.first_bad_seq = seq + 1
        return report
    if head is None:
        if checked:
            return _bad(
                checked, None, "records exist but the signed chain head is missing", **extra
            )
        return VerifyReport(ok=True, checked=0, verified_seq=seq, verified_hash=prev, **extra)
    if head.seq != seq or head.record_hash != prev:
        if head.seq > seq:
            reason = f"record(s) {seq + 1}..{head.seq} after the last one are missing"
        elif head.seq < seq:
            reason = f"the log continues past the signed head (seq {head.seq})"
        else:
            reason = "the last record does not match the signed chain head (rewritten)"
        return _bad(checked, None, reason, **extra)
    return VerifyReport(ok=True, checked=checked, verified_seq=seq, verified_hash=prev, **extra)


def log_reaches(session: Session, *, seq: int, record_hash: str) -> bool:
    """Whether the log still holds record `seq` with `record_hash` (or a signed purge covers it)."""
    if seq == 0:
        return True
    purged = session.get(LogMark, "anchor")
    if purged is not None and purged.seq >= seq:
        return purged.seq > seq or purged.record_hash == record_hash
    record = session.get(LogRecord, seq)
    return record is not None and record.record_hash == record_hash


def verify_database(
    database_url: str, *, pinned: dict[str, str] | None = None, known: Sequence[KnownHead] = ()
) -> VerifyReport:
    """Verify the message log stored at `database_url` (the mediator's own database)."""
    database = Database(database_url)
    try:
        with database.session() as session:
            return verify_session(session, pinned=pinned, known=known)
    finally:
        database.dispose()
