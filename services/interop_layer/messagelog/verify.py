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

import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session, select

from services.interop_layer.messagelog.chain import (
    GENESIS,
    LEGACY_REPLICA,
    check_signature,
    load_public,
    mark_message,
    mark_name,
)
from services.interop_layer.messagelog.chains import chain_of, marks_by_chain, record_at
from services.interop_layer.messagelog.migrate import has_chains
from services.interop_layer.messagelog.models import LogKey, LogMark, LogRecord, VerifyReport
from services.interop_layer.messagelog.rows import sa_rows
from services.interop_layer.messagelog.walk import KnownHead, Walk, unfinished
from services.kernel.db import Database, libpq_url

__all__ = ["KnownHead", "log_reaches", "verify_database", "verify_session"]


def _keys(session: Session, pinned: dict[str, str] | None) -> tuple[dict[str, str], str | None]:
    """The keys signatures are checked with (PEM), and what is wrong with the database's key
    table."""
    stored = {k.key_id: k.public_key for k in session.exec(select(LogKey))}
    if pinned is None:
        return stored, None
    for key_id, pem in sorted(stored.items()):
        if key_id not in pinned:
            return {}, f"key {key_id} in the database is not pinned (a key was added)"
        if pinned[key_id].strip() != pem.strip():
            return {}, f"key {key_id} in the database differs from the pinned key (swapped)"
    return dict(pinned), None


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
    workers: int = 1,
) -> VerifyReport:
    """Walk every replica's chain in log order; the first record that does not fit is named in
    the report with its replica and position. `head_seq`, `anchor_seq` and `verified_seq` are
    those of `replica`'s chain. On PostgreSQL, `workers` > 1 checks a large log in ranges, in
    that many processes (`ranges`), with the same checks and the same report."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        # other replicas go on writing: the marks and the records are read in one snapshot
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    walk = Walk(marks_by_chain(session), replica)
    pems, key_problem = _keys(session, pinned)
    if key_problem is not None:
        return walk.report(ok=False, reason=key_problem)
    keys = {key_id: load_public(pem) for key_id, pem in pems.items()}
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
    connection = session.connection()
    chains = has_chains(connection)
    if postgres:
        from services.interop_layer.messagelog.ranges import walk_postgres

        failed = walk_postgres(
            connection.connection.driver_connection,
            walk,
            url=libpq_url(connection.engine.url.render_as_string(hide_password=False)),
            chains=chains,
            keys=keys,
            pems=pems,
            workers=workers,
        )
    else:
        failed = walk.walk(sa_rows(connection, chains=chains), keys)
    if failed is not None:
        return failed
    for name in sorted(walk.chains):
        chain = walk.chains[name]
        problem = unfinished(chain)
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
    workers: int | None = None,
) -> VerifyReport:
    """Verify the message log stored at `database_url` (the mediator's own database); a large
    log on PostgreSQL in `workers` processes (default: one per core)."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    database = Database(database_url)
    try:
        with database.session() as session:
            return verify_session(
                session, pinned=pinned, known=known, replica=replica, workers=workers
            )
    finally:
        database.dispose()
