"""The message log bulk-loaded: the rows the mediator's writer stores for batches of `BATCH`
records (same numbers, positions, chain, signatures and head mark, computed by the service's own
functions), written as COPY text in chunks of `CHUNK` records, one transaction each with the
head mark. The writer itself wrote ~2,900 records/s on the loaded machine (half of its CPU in
psycopg's per-row COPY conversion and the record's UUIDs); this path skips that work, not the
chain's. The writer's head and its anchor are then taken over by the writer
(`fill` restarts the mediator), so `dpi log verify` and the trust files see the chain as the
writer leaves it.

From `REBUILD_FROM` records the log's secondary indexes (both on random UUIDs: PostgreSQL kept
them up row by row, ~3,000-6,000 records/s) are dropped first and built again afterwards with
their own definitions, as pg_restore does; a chunk is COPYed by a second thread while the next
one is computed.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.interop_layer.messagelog.chain import mark_name, sign
from services.interop_layer.messagelog.link import link
from services.interop_layer.messagelog.models import RECORD_SEQUENCE, LogRecord
from services.interop_layer.messagelog.store import mark_values

BATCH = 5_000  # the writer's batch: its last record is signed (the signature interval is 0)
CHUNK = 50_000
REBUILD_FROM = 200_000  # records in one load: below, keeping the indexes up costs less
_COLUMNS = [c.name for c in LogRecord.__table__.columns]  # type: ignore[attr-defined]
_JSON = {"request_fields", "response_fields"}
_SET_MARK = (
    "INSERT INTO im_log_mark (name, seq, record_hash, key_id, signature, updated_at) "
    "VALUES (%(name)s, %(seq)s, %(record_hash)s, %(key_id)s, %(signature)s, %(updated_at)s) "
    "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, record_hash = excluded.record_hash, "
    "key_id = excluded.key_id, signature = excluded.signature, updated_at = excluded.updated_at"
)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(name: str, value: Any) -> str:
    """A value as COPY text, as the writer's INSERT stores it (JSON columns: `null` for None)."""
    if name in _JSON:  # the text the column's bind processor (json.dumps) sends
        return json.dumps(value).translate(_ESCAPES)
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return str(value.isoformat(sep=" "))
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def secondary_indexes(url: str) -> list[tuple[str, str]]:
    """The log's indexes other than its primary key: (name, definition), by name."""
    table = LogRecord.__tablename__
    sql = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY indexname"
    )
    with psycopg.connect(url) as connection:
        return [(name, definition) for name, definition in connection.execute(sql, (table, table))]


@contextmanager
def _without_indexes(url: str) -> Iterator[None]:
    """The secondary indexes dropped for the block and built again after it, failed or not."""
    indexes = secondary_indexes(url)
    with psycopg.connect(url, autocommit=True) as connection:
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                connection.execute(definition)


_Chunk = tuple[str, dict[str, Any], int]  # COPY text, the head mark after it, records done


def _copier(url: str, chunks: queue.Queue[_Chunk | None], failed: list[BaseException]) -> None:
    """COPY each chunk and set the head mark, one transaction each, until handed None."""
    insert = f"COPY {LogRecord.__tablename__} ({', '.join(_COLUMNS)}) FROM STDIN"
    try:
        with psycopg.connect(url) as connection:
            while (chunk := chunks.get()) is not None:
                text, mark, _ = chunk
                with connection.cursor().copy(insert) as copy:
                    copy.write(text)
                connection.execute(_SET_MARK, mark)
                connection.commit()
    except BaseException as exc:  # handed to the producer, which stops
        failed.append(exc)
        while chunks.get() is not None:  # let the producer's puts through until it stops
            pass


def load(
    url: str,
    *,
    key: Ed25519PrivateKey,
    key_id: str,
    replica: str,
    head: tuple[int, str],
    records: Callable[[int], dict[str, Any]],
    start: int,
    count: int,
    batch: int = BATCH,
    rebuild_from: int = REBUILD_FROM,
    progress: Callable[[int], None] = lambda done: None,
) -> tuple[int, str, int]:
    """Append records `start`..`start+count` (`records(i)`) to `replica`'s chain, which ends at
    `head` (position, hash), as the writer does when handed them in batches of `batch` (cut
    where `i % batch` wraps, as `messagelog.fill` flushed); the new head (position, hash, the
    head record's seq). From `rebuild_from` records the secondary indexes are built afterwards;
    `progress` gets the records computed so far."""
    position, prev = head
    mark = mark_name("head", replica)
    seq = 0
    reserve = f"SELECT nextval('{RECORD_SEQUENCE.name}') FROM generate_series(1, %s) ORDER BY 1"
    chunks: queue.Queue[_Chunk | None] = queue.Queue(maxsize=1)
    failed: list[BaseException] = []
    copier = threading.Thread(target=_copier, args=(url, chunks, failed), daemon=True)
    with _without_indexes(url) if count >= rebuild_from else nullcontext():
        copier.start()
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                for first in range(start, start + count, CHUNK):
                    size = min(CHUNK, start + count - first)
                    numbers = [n for (n,) in connection.execute(reserve, (size,))]
                    lines = []
                    for offset, seq in enumerate(numbers):
                        i = first + offset
                        fields = records(i)
                        position, prev = link(
                            [fields], (seq,), position=position, prev=prev, key_id=key_id,
                            replica=replica,
                        )  # fmt: skip
                        if i % batch == batch - 1 or i == start + count - 1:  # a batch's last
                            fields["signature"] = sign(key, prev.encode())
                        lines.append("\t".join([_text(name, fields[name]) for name in _COLUMNS]))
                    values = mark_values(
                        name=mark, seq=position, digest=prev, key=key, key_id=key_id
                    )
                    if failed:
                        break
                    chunks.put(("\n".join(lines) + "\n", values, first + size - start))
                    progress(first + size - start)
        finally:
            chunks.put(None)
            copier.join()
    if failed:
        raise failed[0]
    return position, prev, seq
