"""Verify the message log: every replica's chain, each link, hash and signature, from the chain's
purge anchor to its head.

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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import JSON, Table, Text, cast, null
from sqlmodel import Session, select

from services.interop_layer.messagelog.chain import (
    GENESIS,
    LEGACY_REPLICA,
    check_signature,
    load_public,
    mark_message,
    mark_name,
    record_digest,
)
from services.interop_layer.messagelog.chains import chain_of, marks_by_chain, record_at
from services.interop_layer.messagelog.migrate import has_chains
from services.interop_layer.messagelog.models import (
    ChainReport,
    LogKey,
    LogMark,
    LogRecord,
    VerifyReport,
)
from services.kernel.db import Database

# A row of the records' table (`_records`): the attributes of a `LogRecord`, without the ORM.
Stored = Any
_RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]
_JSON = tuple(c.name for c in _RECORDS.columns if isinstance(c.type, JSON))


@dataclass(frozen=True, slots=True)
class KnownHead:
    """A head proved earlier (exported by the mediator or verified before): `what` names it;
    `seq` is its position in `replica`'s chain."""

    seq: int
    record_hash: str
    what: str
    replica: str = LEGACY_REPLICA


@dataclass
class _Chain:
    """One replica's chain while it is walked."""

    replica: str
    head: LogMark | None = None
    anchor: LogMark | None = None
    position: int = 0
    prev: str = GENESIS
    checked: int = 0
    unproven: int | None = None  # the first record not yet vouched for by a signature
    expected: dict[int, KnownHead] = field(default_factory=dict)

    def report(self) -> ChainReport:
        return ChainReport(
            replica=self.replica,
            checked=self.checked,
            head_position=None if self.head is None else self.head.seq,
            anchor_position=None if self.anchor is None else self.anchor.seq,
            verified_position=self.position,
            verified_hash=self.prev,
        )


class _Walk:
    """Every chain's state, and the report naming the first bad record or mark."""

    def __init__(self, marks: dict[str, dict[str, LogMark]], replica: str) -> None:
        self.replica = replica
        self.chains = {
            name: _Chain(name, head=kinds.get("head"), anchor=kinds.get("anchor"))
            for name, kinds in marks.items()
        }
        self.checked = 0

    def chain(self, replica: str) -> _Chain:
        if replica not in self.chains:
            self.chains[replica] = _Chain(replica)
        return self.chains[replica]

    def report(self, **values: Any) -> VerifyReport:
        own = self.chains.get(self.replica)
        if own is not None:
            values.setdefault("head_seq", None if own.head is None else own.head.seq)
            values.setdefault("anchor_seq", None if own.anchor is None else own.anchor.seq)
        return VerifyReport(
            checked=self.checked,
            chains=[self.chains[name].report() for name in sorted(self.chains)],
            **values,
        )

    def bad(self, chain: _Chain, reason: str, record: Stored | None = None) -> VerifyReport:
        return self.report(
            ok=False,
            first_bad_seq=None if record is None else record.seq,
            first_bad_replica=chain.replica,
            first_bad_position=None if record is None else chain_of(record)[1],
            first_bad_x_road_id=None if record is None else record.x_road_id,
            reason=reason,
        )


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
    session: Session,
    *,
    pinned: dict[str, str] | None = None,
    known: Sequence[KnownHead] = (),
    replica: str = LEGACY_REPLICA,
) -> VerifyReport:
    """Walk every replica's chain (one pass in log order); the first record that does not fit
    is named in the report with its replica and position. `head_seq`, `anchor_seq` and
    `verified_seq` are those of `replica`'s chain."""
    if session.get_bind().dialect.name == "postgresql":
        # other replicas go on writing: the marks and the records are read in one snapshot
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    walk = _Walk(marks_by_chain(session), replica)
    keys, key_problem = _keys(session, pinned)
    if key_problem is not None:
        return walk.report(ok=False, reason=key_problem)
    for chain in walk.chains.values():
        if chain.anchor is not None and not _mark_ok(chain.anchor, keys):
            return walk.bad(chain, "the purge anchor's signature is invalid")
        if chain.head is not None and not _mark_ok(chain.head, keys):
            return walk.bad(chain, "the chain head's signature is invalid")
        if chain.anchor is not None:
            chain.position, chain.prev = chain.anchor.seq, chain.anchor.record_hash
    for mark in known:
        chain = walk.chain(mark.replica)
        if mark.seq > chain.position:  # at or before the purge anchor: vouched for by it
            chain.expected.setdefault(mark.seq, mark)
        elif mark.seq == chain.position and mark.record_hash != chain.prev:
            return walk.bad(chain, f"the purge anchor diverges from the {mark.what}")
    for record in _records(session):
        name, position = chain_of(record)
        chain = walk.chain(name)
        problem = _misfit(chain, record, position, keys)
        if problem is not None:
            return walk.bad(chain, problem, record)
        known_head = chain.expected.pop(position, None)
        if known_head is not None and known_head.record_hash != record.record_hash:
            reason = f"differs from the {known_head.what}: the log was rewritten"
            return walk.bad(chain, reason, record)
        chain.position, chain.prev = position, record.record_hash
        chain.checked += 1
        walk.checked += 1
    for name in sorted(walk.chains):
        chain = walk.chains[name]
        problem = _unfinished(chain)
        if problem is not None:
            report = walk.bad(chain, problem)
            if chain.expected:
                report.first_bad_seq = report.first_bad_position = chain.position + 1
            return report
    own = walk.chains.get(replica)
    return walk.report(
        ok=True,
        verified_seq=own.position if own else 0,
        verified_hash=own.prev if own else GENESIS,
    )


def _records(session: Session) -> Iterator[Stored]:
    """Every record in log order, as plain rows: an ORM object per record (loaded, then dumped
    for the hash) cost more CPU than the hash over a log of millions. A log the mediator has not
    migrated yet is read as it is (the verifier changes nothing)."""
    table = _RECORDS
    # JSON columns as their text, decoded by orjson (`_fields`): the driver's json.loads cost
    # a quarter of the walk
    columns: list[Any] = [
        cast(c, Text).label(c.name) if c.name in _JSON else c
        for c in table.columns
        if c.name not in ("replica", "position")
    ]
    if has_chains(session.connection()):
        columns += [table.c.replica, table.c.position]
    else:
        columns += [null().label("replica"), null().label("position")]
    yield from session.execute(select(*columns).order_by(table.c.seq)).yield_per(2000)


def _fields(record: Stored) -> dict[str, Any]:
    """The record's values as the writer hashed them (JSON columns decoded)."""
    fields: dict[str, Any] = record._asdict()
    for name in _JSON:
        text = fields[name]
        fields[name] = None if text is None else orjson.loads(text)
    return fields


def _misfit(
    chain: _Chain, record: Stored, position: int, keys: dict[str, Ed25519PublicKey]
) -> str | None:
    """What is wrong with `record` at `position` of `chain`, if anything (and the signature's
    bookkeeping when nothing is)."""
    if record.replica is not None and record.position is None:
        return "has a replica but no position in its chain"
    if chain.head is None:
        return f"records of replica {chain.replica} exist but its signed chain head is missing"
    if position > chain.head.seq:
        return "record lies past the signed chain head"
    if position != chain.position + 1:
        if position > chain.position + 1:
            return f"record(s) {chain.position + 1}..{position - 1} are missing before this one"
        return f"sequence number {position} does not follow {chain.position}"
    if record.prev_hash != chain.prev:
        return "does not link to the previous record"
    if record_digest(chain.prev, _fields(record)) != record.record_hash:
        return "content does not match its hash (modified)"
    if record.signature:
        public = keys.get(record.key_id)
        if public is None or not check_signature(
            public, record.record_hash.encode(), record.signature
        ):
            unproven = chain.unproven
            vouched = "" if unproven is None else f" (it vouches for {unproven}..{position})"
            return f"signature is invalid or the key is unknown{vouched}"
        chain.unproven = None
    elif chain.unproven is None:
        chain.unproven = position
    return None


def _unfinished(chain: _Chain) -> str | None:
    """What is wrong with `chain` once all its records are walked: known heads the log does not
    reach, or an end that is not its signed head."""
    seq, prev, head = chain.position, chain.prev, chain.head
    if chain.expected:
        longest = chain.expected[max(chain.expected)]
        return (
            f"record(s) {seq + 1}..{longest.seq} are missing: the log is shorter than the "
            f"{longest.what}"
        )
    if head is None:
        return None
    if head.seq != seq or head.record_hash != prev:
        if head.seq > seq:
            return f"record(s) {seq + 1}..{head.seq} after the last one are missing"
        if head.seq < seq:
            return f"the log continues past the signed head (seq {head.seq})"
        return "the last record does not match the signed chain head (rewritten)"
    return None


def log_reaches(
    session: Session,
    *,
    seq: int,
    record_hash: str,
    replica: str = LEGACY_REPLICA,
    record_seq: int | None = None,
) -> bool:
    """Whether `replica`'s chain still holds the record at position `seq` with `record_hash`
    (or a signed purge covers it); `record_seq`, its number in the log, finds it at once."""
    if seq == 0:
        return True
    purged = session.get(LogMark, mark_name("anchor", replica))
    if purged is not None and purged.seq >= seq:
        return purged.seq > seq or purged.record_hash == record_hash
    if record_seq is None and replica == LEGACY_REPLICA:
        record_seq = seq  # a record from before chains were per replica
    record = None if record_seq is None else session.get(LogRecord, record_seq)
    if record is None or chain_of(record) != (replica, seq):
        record = record_at(session, replica=replica, position=seq)
    return record is not None and record.record_hash == record_hash


def verify_database(
    database_url: str,
    *,
    pinned: dict[str, str] | None = None,
    known: Sequence[KnownHead] = (),
    replica: str = LEGACY_REPLICA,
) -> VerifyReport:
    """Verify the message log stored at `database_url` (the mediator's own database)."""
    database = Database(database_url)
    try:
        with database.session() as session:
            return verify_session(session, pinned=pinned, known=known, replica=replica)
    finally:
        database.dispose()
