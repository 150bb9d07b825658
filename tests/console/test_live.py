"""The live feed: what the follower publishes reaches every connected browser as SSE."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.console.live import Hub, summary

pytestmark = pytest.mark.anyio


async def test_the_hub_streams_readiness_then_published_exchanges():
    hub = Hub()
    hub.readiness = {"interop_layer": True}
    stream = hub.stream(disconnected=lambda: asyncio.sleep(0, result=False))
    assert await anext(stream) == "retry: 1000\n\n"
    assert await anext(stream) == 'event: ready\ndata: {"interop_layer": true}\n\n'
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    record = {
        "seq": 7,
        "client": "DPI/GOV/MOE/emis",
        "service": "DPI/GOV/MOH/hmis/immunisation-status",
        "statusCode": 500,
        "errorType": "Server.ServerProxy.AccessDenied",
        "decisionId": "dec-1",
        "subjectHash": "ab",
        "responseBody": '{"type": "Server.ServerProxy.AccessDenied", "message": "Consent denied: '
        'no consent record for this subject", "detail": "x"}',
    }
    hub.publish("exchange", summary(record))
    message = await asyncio.wait_for(pending, timeout=5)
    assert message.startswith("event: exchange\ndata: ")
    assert '"provider": "DPI/GOV/MOH/hmis"' in message and '"consent": "deny"' in message
    assert '"reason": "Consent denied: no consent record for this subject"' in message
    await stream.aclose()
    assert hub.queues == set()
