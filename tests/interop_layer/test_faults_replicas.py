"""Two mediator replicas on one PostgreSQL database share their fault rules: a rule added or
cleared through one holds on the other within a second, and a rule's `times` and `rate_limit`
count the calls of both replicas together."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.interop_layer.runtime import InteropRuntime
from services.kernel.runtime import runtime_of
from tests.conftest import SHARED_POSTGRES
from tests.interop_layer.support import (
    ADMIN,
    HEALTH,
    REGISTRIES,
    client_headers,
    mediator_replicas,
)
from tests.support.polling import until
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]

URL = f"/r1/{REGISTRIES}/raw/echo/x"
RULE = {"provider": REGISTRIES, "serviceCode": "raw"}


async def status(client: httpx.AsyncClient) -> int:
    return (await client.get(URL, headers=client_headers(HEALTH))).status_code


async def answers(client: httpx.AsyncClient, expected: int, what: str) -> None:
    async def done() -> bool:
        return await status(client) == expected

    await until(done, what, within=1.0)


def rule_ids(app: FastAPI) -> list[str]:
    return [rule.id for rule in runtime_of(app, InteropRuntime).faults]


async def add(client: httpx.AsyncClient, **rule: Any) -> str:
    added = await client.post("/admin/faults", headers=ADMIN, json={**RULE, **rule})
    assert added.status_code == 201, added.text
    return str(added.json()["id"])


async def test_a_fault_set_on_one_replica_holds_on_the_other(provider, make_settings, fakes):
    async with two_replicas(*mediator_replicas(provider, make_settings, fakes)) as (one, two):
        assert await status(two) == 200

        rule_id = await add(one, kind="error", status=503)
        await answers(two, 503, "the fault did not reach the other replica")
        answer = await two.get(URL, headers=client_headers(HEALTH))
        assert answer.headers["x-dpi-fault"] == rule_id
        listed = (await one.get("/admin/faults", headers=ADMIN)).json()
        assert [r["id"] for r in listed] == [rule_id] and listed[0]["fired"] >= 2  # b's firings

        cleared = await one.delete("/admin/faults", headers=ADMIN)
        assert cleared.status_code == 204
        await answers(two, 200, "the cleared fault still fires on the other replica")
        assert (await two.get("/admin/faults", headers=ADMIN)).json() == []

        rule_id = await add(two, kind="down")
        await answers(one, 500, "the fault did not reach the first replica")
        assert (await one.delete(f"/admin/faults/{rule_id}", headers=ADMIN)).status_code == 204
        await answers(two, 200, "the removed fault still fires on the other replica")
        gone = await two.delete(f"/admin/faults/{rule_id}", headers=ADMIN)
        assert gone.status_code == 404


async def test_times_and_rate_limits_count_both_replicas(provider, make_settings, fakes):
    first, second = mediator_replicas(provider, make_settings, fakes)
    async with two_replicas(first, second) as (one, two):
        rule_id = await add(one, kind="error", status=502, times=3)
        began = time.monotonic()
        while rule_ids(second) != [rule_id]:
            assert time.monotonic() - began < 1.0, "the rule did not reach the other replica"
        assert [await status(c) for c in (two, one, two)] == [502, 502, 502]
        assert await status(one) == 200  # used up: three firings over both replicas
        began = time.monotonic()
        while rule_ids(second):
            assert time.monotonic() - began < 1.0, "the used-up rule stayed on the other replica"
        assert await status(two) == 200

        rule_id = await add(two, kind="rate_limit", limit=2, window_s=600)
        began = time.monotonic()
        while rule_ids(first) != [rule_id]:
            assert time.monotonic() - began < 1.0, "the rule did not reach the other replica"
        assert [await status(c) for c in (one, two, one, two)] == [200, 200, 429, 429]
        listed = (await two.get("/admin/faults", headers=ADMIN)).json()
        assert listed[0]["fired"] == 2
