"""At rest one signature per written batch: the signed record vouches for the batch through the
chain, so rewriting records (hashes recomputed) is still found, by a signature or the head."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from services.interop_layer.main import create_app
from services.interop_layer.messagelog.chain import record_digest
from services.interop_layer.messagelog.models import LogRecord
from services.interop_layer.messagelog.verify import verify_database
from services.interop_layer.runtime import InteropRuntime
from services.kernel.db import Database
from services.kernel.runtime import runtime_of
from services.kernel.testing import serve_in_process
from tests.interop_layer.test_messagelog import verify
from tests.interop_layer.test_messagelog_writer import record

pytestmark = pytest.mark.anyio


async def one_batch_of_five(provider, make_settings, fakes) -> Any:
    """Five records nobody waits for, written as one batch (the group delay outlasts them; a
    read flushes). Answered exchanges wait for their commit, so they rarely share one."""
    exchanger, decider = fakes
    settings = make_settings(provider[1], message_log_flush_interval=30.0)
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        for n in range(5):  # started now: the start-up retention purge keeps them
            runtime_of(app, InteropRuntime).message_log.submit(
                record(n, started_at=datetime.now(UTC))
            )
        assert (await verify(client))["ok"] is True
    return settings


def rewrite(settings: Any, *, seq: int, strip_last_signature: bool = False) -> None:
    """Change record `seq` and recompute every hash and link after it, as a forger would."""
    database = Database(settings.database())
    with database.session() as session:
        rows = session.exec(select(LogRecord).order_by(col(LogRecord.seq))).all()
        prev = rows[seq - 2].record_hash if seq > 1 else "0" * 64
        for row in rows[seq - 1 :]:
            if row.seq == seq:
                row.status_code = 404
            row.prev_hash = prev
            row.record_hash = prev = record_digest(prev, row.model_dump())
            if strip_last_signature and row.seq == rows[-1].seq:
                row.signature = ""
            session.add(row)
        session.commit()
    database.dispose()


def signatures(settings: Any) -> list[bool]:
    database = Database(settings.database())
    with database.session() as session:
        rows = session.exec(select(LogRecord).order_by(col(LogRecord.seq))).all()
        signed = [bool(row.signature) for row in rows]
    database.dispose()
    return signed


async def test_a_batch_is_signed_once_by_its_last_record(provider, make_settings, fakes):
    settings = await one_batch_of_five(provider, make_settings, fakes)
    assert signatures(settings) == [False, False, False, False, True]
    assert verify_database(settings.database()).ok is True


async def test_a_rewritten_batch_fails_its_signature(provider, make_settings, fakes):
    settings = await one_batch_of_five(provider, make_settings, fakes)
    rewrite(settings, seq=2)
    report = verify_database(settings.database())
    assert report.ok is False and report.first_bad_seq == 5
    assert "signature is invalid" in (report.reason or "") and "1..5" in (report.reason or "")


async def test_a_rewrite_without_the_signature_fails_the_signed_head(
    provider, make_settings, fakes
):
    settings = await one_batch_of_five(provider, make_settings, fakes)
    rewrite(settings, seq=3, strip_last_signature=True)
    report = verify_database(settings.database())
    assert report.ok is False
    assert "signed chain head" in (report.reason or "")
