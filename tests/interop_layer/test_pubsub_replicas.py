"""Two mediator replicas on one PostgreSQL database push every event once per subscription, and
a FIFO subscription's events in order, whichever replica claimed them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from tests.conftest import SHARED_POSTGRES
from tests.interop_layer.support import ADMIN, HEALTH, NIA, await_for, mediator_replicas, serve
from tests.interop_layer.test_pubsub import deliveries, publish, subscribe
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]
EVENTS = 40


@pytest.fixture
def slow_subscriber() -> Iterator[tuple[dict[str, list[dict[str, Any]]], str]]:
    """Hooks per subscriber that take a moment to answer, so both replicas' rounds overlap."""
    received: dict[str, list[dict[str, Any]]] = {"nia": [], "health": []}
    app = FastAPI()

    @app.post("/hook/{who}")
    async def hook(who: str, request: Request) -> Response:
        await asyncio.sleep(0.02)
        received[who].append(await request.json())
        return Response(status_code=204)

    with serve(app) as url:
        yield received, url


async def test_two_replicas_push_each_event_once(provider, make_settings, fakes, slow_subscriber):
    received, url = slow_subscriber
    first, second = mediator_replicas(provider, make_settings, fakes)
    async with two_replicas(first, second) as (one, two):
        await subscribe(one, NIA, delivery="PUSH", pushUrl=f"{url}/hook/nia")
        await subscribe(
            two, HEALTH, delivery="PUSH", pushUrl=f"{url}/hook/health", options={"FIFO": True}
        )
        ids = []
        for n in range(EVENTS):
            response = await publish((one, two)[n % 2], {"civilRegistrationId": f"BR-{n}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])

        async def settled() -> bool:
            done = await deliveries(one, state="delivered")
            return len(done) == 2 * EVENTS

        await await_for(settled, timeout=60, what="every delivery settled")
        verified = (await two.post("/admin/messagelog/verify", headers=ADMIN)).json()
    nia = Counter(item["id"] for item in received["nia"])
    assert sorted(nia) == sorted(ids) and set(nia.values()) == {1}
    assert [item["id"] for item in received["health"]] == ids  # FIFO: once each, in order
    # each replica logged its publications and pushes in its own chain; both verify
    assert verified["ok"] is True, verified
    assert [chain["replica"] for chain in verified["chains"]] == ["a", "b"]
    assert verified["checked"] == sum(chain["checked"] for chain in verified["chains"])
    assert verified["checked"] >= 3 * EVENTS  # every publication and every delivery
