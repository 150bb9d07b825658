"""Verify the message log: every link, hash and signature, from the purge anchor to the head.

Records are signed per written batch (older chains: every record): a signed record vouches for
the unsigned ones before it through the hash links, and the signed head for the last ones, so a
change anywhere fails a hash, a link or a signature.

`verify_database(url)` is the plain entry point for the command line (`dpi log verify`).
"""

from __future__ import annotations

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


def _mark_ok(mark: LogMark, keys: dict[str, Ed25519PublicKey]) -> bool:
    public = keys.get(mark.key_id)
    message = mark_message(mark.name, mark.seq, mark.record_hash)
    return public is not None and check_signature(public, message, mark.signature)


def verify_session(session: Session, *, trusted_keys: set[str] | None = None) -> VerifyReport:
    """Walk the chain in order; the first record that does not fit is named in the report."""
    keys = {k.key_id: load_public(k.public_key) for k in session.exec(select(LogKey))}
    if trusted_keys is not None:
        keys = {key_id: key for key_id, key in keys.items() if key_id in trusted_keys}
    anchor = session.get(LogMark, "anchor")
    head = session.get(LogMark, "head")
    extra = {"head_seq": head.seq if head else None, "anchor_seq": anchor.seq if anchor else None}
    if anchor is not None and not _mark_ok(anchor, keys):
        return _bad(0, None, "the purge anchor's signature is invalid", **extra)
    if head is not None and not _mark_ok(head, keys):
        return _bad(0, None, "the chain head's signature is invalid", **extra)
    seq, prev = (anchor.seq, anchor.record_hash) if anchor else (0, GENESIS)
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
        seq, prev = record.seq, record.record_hash
        checked += 1
    if head is None:
        if checked:
            return _bad(
                checked, None, "records exist but the signed chain head is missing", **extra
            )
        return VerifyReport(ok=True, checked=0, **extra)
    if head.seq != seq or head.record_hash != prev:
        if head.seq > seq:
            reason = f"record(s) {seq + 1}..{head.seq} after the last one are missing"
        elif head.seq < seq:
            reason = f"the log continues past the signed head (seq {head.seq})"
        else:
            reason = "the last record does not match the signed chain head (rewritten)"
        return _bad(checked, None, reason, **extra)
    return VerifyReport(ok=True, checked=checked, **extra)


def verify_database(database_url: str, *, trusted_keys: set[str] | None = None) -> VerifyReport:
    """Verify the message log stored at `database_url` (the mediator's own database)."""
    database = Database(database_url)
    try:
        with database.session() as session:
            return verify_session(session, trusted_keys=trusted_keys)
    finally:
        database.dispose()
