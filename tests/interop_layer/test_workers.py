"""The mediator's retention purge is a kernel-owned worker: its first round runs at start."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from services.interop_layer.main import create_app
from services.interop_layer.runtime import InteropRuntime
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.testing import serve_in_process
from tests.interop_layer.test_messagelog import records
from tests.interop_layer.test_messagelog_writer import record

pytestmark = pytest.mark.anyio


async def test_retention_purges_old_records_at_start(provider, make_settings, fakes):
    exchanger, decider = fakes
    settings = make_settings(provider[1], message_log_retention_days=0)
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        assert "message-log-retention" not in kernel_state(app).workers.names  # switched off
        old = datetime.now(UTC) - timedelta(days=60)
        writer = runtime_of(app, InteropRuntime).message_log
        await writer.commit(record(1, started_at=old))
        await writer.commit(record(2, started_at=datetime.now(UTC)))
        assert len(await records(client)) == 2
    settings = make_settings(provider[1], message_log_retention_days=30)
    app = create_app(settings, token_exchanger=exchanger, decision_client=decider)
    async with serve_in_process(app) as client:
        assert "message-log-retention" in kernel_state(app).workers.names
        deadline = time.monotonic() + 10
        while len(kept := await records(client)) != 1:
            assert time.monotonic() < deadline, "the start-up purge did not run"
            await asyncio.sleep(0.05)
        assert [r["xRoadId"] for r in kept] == ["writer-2"]
