"""The verifier's walk over records: each chain's state, the checks of one record, and the
report naming the first record or mark that does not fit.

Records come as plain dicts of the table's columns (JSON columns as their text, decoded by
orjson in `fields`): an ORM object per record, or the driver's json.loads, cost more CPU than
the hash over a log of millions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import JSON, Table

from services.interop_layer.messagelog.chain import (
    GENESIS,
    LEGACY_REPLICA,
    check_signature,
    record_digest,
)
from services.interop_layer.messagelog.models import ChainReport, LogMark, LogRecord, VerifyReport

Row = dict[str, Any]
RECORDS: Table = LogRecord.__table__  # type: ignore[attr-defined]
JSON_COLUMNS = tuple(c.name for c in RECORDS.columns if isinstance(c.type, JSON))


@dataclass(frozen=True, slots=True)
class KnownHead:
    """A head proved earlier (exported by the mediator or verified before): `what` names it;
    `seq` is its position in `replica`'s chain."""

    seq: int
    record_hash: str
    what: str
    replica: str = LEGACY_REPLICA


@dataclass
class Chain:
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


def chain_of(row: Row) -> tuple[str, int]:
    """The replica whose chain holds the record, and its position there."""
    replica, position = row["replica"], row["position"]
    if replica is None:  # written before chains were per replica
        return LEGACY_REPLICA, row["seq"]
    return replica, row["seq"] if position is None else position


class Walk:
    """Every chain's state, and the report naming the first bad record or mark."""

    def __init__(self, marks: dict[str, dict[str, LogMark]], replica: str) -> None:
        self.replica = replica
        self.chains = {
            name: Chain(name, head=kinds.get("head"), anchor=kinds.get("anchor"))
            for name, kinds in marks.items()
        }
        self.checked = 0

    def chain(self, replica: str) -> Chain:
        if replica not in self.chains:
            self.chains[replica] = Chain(replica)
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

    def bad(self, chain: Chain, reason: str, record: Row | None = None) -> VerifyReport:
        return self.report(
            ok=False,
            first_bad_seq=None if record is None else record["seq"],
            first_bad_replica=chain.replica,
            first_bad_position=None if record is None else chain_of(record)[1],
            first_bad_x_road_id=None if record is None else record["x_road_id"],
            reason=reason,
        )

    def walk(self, rows: Iterable[Row], keys: dict[str, Ed25519PublicKey]) -> VerifyReport | None:
        """Walk `rows` in log order from where each chain stands; the report of the first
        record that does not fit, None when all do."""
        for row in rows:
            name, position = chain_of(row)
            chain = self.chain(name)
            problem = step(chain, row, position, keys)
            if problem is not None:
                return self.bad(chain, problem, row)
            self.checked += 1
        return None


def fields(row: Row) -> Row:
    """The record's values as the writer hashed them (JSON columns decoded, in place)."""
    for name in JSON_COLUMNS:
        text = row[name]
        if text is not None:
            row[name] = orjson.loads(text)
    return row


def step(chain: Chain, row: Row, position: int, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """Check `row` at `position` of `chain` and move the chain on to it; what is wrong, if
    anything (the chain is then left where it was)."""
    problem = misfit(chain, row, position, keys)
    if problem is not None:
        return problem
    known_head = chain.expected.pop(position, None) if chain.expected else None
    if known_head is not None and known_head.record_hash != row["record_hash"]:
        return f"differs from the {known_head.what}: the log was rewritten"
    chain.position, chain.prev = position, row["record_hash"]
    chain.checked += 1
    return None


def misfit(chain: Chain, row: Row, position: int, keys: dict[str, Ed25519PublicKey]) -> str | None:
    """What is wrong with `row` at `position` of `chain`, if anything (and the signature's
    bookkeeping when nothing is)."""
    if row["replica"] is not None and row["position"] is None:
        return "has a replica but no position in its chain"
    if chain.head is None:
        return f"records of replica {chain.replica} exist but its signed chain head is missing"
    if position > chain.head.seq:
        return "record lies past the signed chain head"
    if position != chain.position + 1:
        if position > chain.position + 1:
            return f"record(s) {chain.position + 1}..{position - 1} are missing before this one"
        return f"sequence number {position} does not follow {chain.position}"
    if row["prev_hash"] != chain.prev:
        return "does not link to the previous record"
    record_hash = row["record_hash"]
    if record_digest(chain.prev, fields(row)) != record_hash:
        return "content does not match its hash (modified)"
    signature = row["signature"]
    if signature:
        public = keys.get(row["key_id"])
        if public is None or not check_signature(public, record_hash.encode(), signature):
            unproven = chain.unproven
            vouched = "" if unproven is None else f" (it vouches for {unproven}..{position})"
            return f"signature is invalid or the key is unknown{vouched}"
        chain.unproven = None
    elif chain.unproven is None:
        chain.unproven = position
    return None


def unfinished(chain: Chain) -> str | None:
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
