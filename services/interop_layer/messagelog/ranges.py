"""A large log on PostgreSQL verified in ranges of record numbers, in parallel processes.

A record's hash is recomputed from the previous hash it stores, so a range is checked on its
own (every hash, signature, position and link inside it, against the signed heads and known
heads); what it cannot see, each chain's link into the range, is checked when the ranges are
put back in order: its first record of a chain must follow, and link to, that chain's last
record before the range. Every worker reads in the snapshot of the verifier's transaction
(`pg_export_snapshot`), so all see the log as the marks were read. A range that fails is walked
again, in one pass from its start with the chains' state before it, for the report the one-pass
walk gives (the first bad record, what is wrong, the records checked before it).
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg import sql

from services.interop_layer.messagelog.chain import load_public
from services.interop_layer.messagelog.models import LogMark, VerifyReport
from services.interop_layer.messagelog.rows import pg_bounds, pg_rows
from services.interop_layer.messagelog.walk import Chain, KnownHead, Row, Walk, chain_of, step

PARALLEL_MIN = 200_000  # fewer records: one pass (starting processes costs more)
RANGES_PER_WORKER = 4  # shorter ranges even out the workers' share of a loaded machine


@dataclass(frozen=True, slots=True)
class RangeTask:
    url: str  # libpq
    snapshot: str
    chains: bool
    low: int
    high: int
    keys: dict[str, str]  # key id -> public key (PEM)
    heads: dict[str, int]  # replica -> its signed head's position
    expected: dict[str, dict[int, KnownHead]]


@dataclass(slots=True)
class Span:
    """One chain's records in a range: where they start and end, and the signatures' state."""

    first_position: int
    first_prev: str
    last_position: int = 0
    last_hash: str = ""
    count: int = 0
    signed: bool = False  # a valid record signature among them
    unproven: int | None = None  # as `Chain.unproven` at the range's end, from its start


@dataclass(slots=True)
class RangeResult:
    low: int
    ok: bool
    count: int = 0
    spans: dict[str, Span] = field(default_factory=dict)


def ranges(low: int, high: int, workers: int) -> list[tuple[int, int]]:
    """`low`..`high` cut into ranges for `workers` processes (one range when not worth it)."""
    if workers <= 1 or high - low + 1 < PARALLEL_MIN:
        return [(low, high)]
    size = math.ceil((high - low + 1) / (workers * RANGES_PER_WORKER))
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


def scan(rows: Iterable[Row], task: RangeTask, keys: dict[str, Ed25519PublicKey]) -> RangeResult:
    """Check the records of one range, each chain from its first record there."""
    chains: dict[str, Chain] = {}
    spans: dict[str, Span] = {}
    count = 0
    for row in rows:
        name, position = chain_of(row)
        chain = chains.get(name)
        if chain is None:
            head = task.heads.get(name)
            mark = None if head is None else LogMark(name=name, seq=head, record_hash="",
                                                     key_id="", signature="")  # fmt: skip
            expected = dict(task.expected.get(name, {}))
            prev = row["prev_hash"]
            chain = chains[name] = Chain(name, mark, None, position - 1, prev, expected=expected)
            spans[name] = Span(first_position=position, first_prev=prev)
        if step(chain, row, position, keys) is not None:
            return RangeResult(task.low, ok=False)
        if row["signature"]:
            spans[name].signed = True
        count += 1
    for name, chain in chains.items():
        span = spans[name]
        span.last_position, span.last_hash = chain.position, chain.prev
        span.count, span.unproven = chain.checked, chain.unproven
    return RangeResult(task.low, ok=True, count=count, spans=spans)


def walk_range(task: RangeTask) -> RangeResult:
    """A worker process: one range, read in the verifier's snapshot."""
    keys = {key_id: load_public(pem) for key_id, pem in task.keys.items()}
    with psycopg.connect(task.url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        snapshot = sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(task.snapshot))
        connection.execute(snapshot)
        return scan(pg_rows(connection, chains=task.chains, low=task.low, high=task.high), task,
                    keys)  # fmt: skip


def stitch(walk: Walk, result: RangeResult) -> bool:
    """Move the chains on over a range checked on its own; False (nothing moved) when it failed
    or does not continue the chains where they stand."""
    if not result.ok:
        return False
    for name, span in result.spans.items():
        chain = walk.chains.get(name)
        if chain is None or span.first_position != chain.position + 1:
            return False
        if span.first_prev != chain.prev:
            return False
    for name, span in result.spans.items():
        chain = walk.chains[name]
        for position in [p for p in chain.expected if p <= span.last_position]:
            del chain.expected[position]  # met in the range (a mismatch fails the range)
        if span.signed or chain.unproven is None:
            chain.unproven = span.unproven
        chain.position, chain.prev = span.last_position, span.last_hash
        chain.checked += span.count
    walk.checked += result.count
    return True


def walk_postgres(
    connection: Any,
    walk: Walk,
    *,
    url: str,
    chains: bool,
    keys: dict[str, Ed25519PublicKey],
    pems: dict[str, str],
    workers: int,
) -> VerifyReport | None:
    """Walk every record of the log on `connection` (psycopg, in the verifier's transaction):
    the report of the first bad record, None when all fit."""
    bounds = pg_bounds(connection)
    if bounds is None:
        return None
    low, high = bounds
    cuts = ranges(low, high, workers)
    if len(cuts) == 1:
        return walk.walk(pg_rows(connection, chains=chains, low=low, high=high), keys)
    with connection.cursor() as cursor:
        snapshot = str((cursor.execute("SELECT pg_export_snapshot()").fetchone() or ("",))[0])
    heads = {name: c.head.seq for name, c in walk.chains.items() if c.head is not None}
    expected = {name: dict(c.expected) for name, c in walk.chains.items() if c.expected}
    tasks = [RangeTask(url, snapshot, chains, start, end, pems, heads, expected)
             for start, end in cuts]  # fmt: skip
    # forked: a spawned worker imports the caller's main module again (an unguarded script runs
    # twice); the children open their own connections and leave by os._exit, so the parent's
    # connection (inherited, never used there) is not closed under it
    with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
        for result in pool.imap(walk_range, tasks):
            if not stitch(walk, result):
                pool.terminate()
                rows = pg_rows(connection, chains=chains, low=result.low, high=high)
                return walk.walk(rows, keys)
    return None
