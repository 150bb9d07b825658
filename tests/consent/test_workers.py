"""The consent service's background work runs as kernel-owned workers declared in workers.py."""

from __future__ import annotations

import pytest

from services.consent.main import create_app
from services.consent.runtime import ConsentRuntime
from services.consent.settings import ConsentSettings
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.testing import serve_in_process
from tests.consent.conftest import Consent

pytestmark = pytest.mark.anyio


async def test_webhooks_and_checkpoints_run_as_workers(consent: Consent) -> None:
    names = kernel_state(consent.app).workers.names
    assert "webhook-delivery" in names
    assert "consent-seed" not in names  # the schema was there at start-up: seeded already
    sqlite = runtime_of(consent.app, ConsentRuntime).decision_log.store.dialect.is_sqlite
    assert ("decision-log-checkpoints" in names) is sqlite


async def test_workers_stop_before_the_decision_log_closes(
    consent_settings: ConsentSettings,
) -> None:
    app = create_app(consent_settings)
    async with serve_in_process(app):
        workers = kernel_state(app).workers
        assert workers.running >= 1
    assert workers.running == 0
