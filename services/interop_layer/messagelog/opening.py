"""Where a writer's chain starts when it opens: its key registered, its head read and checked."""

from __future__ import annotations

from services.interop_layer.messagelog.chains import ChainStart, chain_start
from services.interop_layer.messagelog.models import LogKey
from services.interop_layer.messagelog.trust import TrustExport
from services.interop_layer.messagelog.verify import log_reaches
from services.kernel.db import Database


def open_chain(
    database: Database, *, key_id: str, pem: str, replica: str, trust: TrustExport
) -> ChainStart:
    """Register and pin the public key, read where `replica`'s chain ends and open the trust
    export there (which checks the log still reaches the last exported anchor)."""
    with database.session() as session:
        if session.get(LogKey, key_id) is None:
            session.add(LogKey(key_id=key_id, public_key=pem))
            session.commit()
        start = chain_start(session, replica=replica, count=database.is_sqlite)
        trust.open(
            lambda anchor: log_reaches(
                session,
                replica=anchor.replica,
                seq=anchor.seq,
                record_hash=anchor.record_hash,
                record_seq=anchor.record_seq,
            ),
            head_seq=start.position,
            head_hash=start.record_hash,
            record_seq=start.record_seq,
        )
        return start
