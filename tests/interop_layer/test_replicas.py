"""Two mediator replicas on one PostgreSQL database: an access right revoked or granted through
one takes effect on the other within a second (its directory snapshot is rebuilt)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SHARED_POSTGRES
from tests.interop_layer.support import (
    ADMIN,
    ECHO_RIGHT,
    EDUCATION,
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


async def status(client: httpx.AsyncClient) -> int:
    return (await client.get(URL, headers=client_headers(EDUCATION))).status_code


async def answers(client: httpx.AsyncClient, expected: int, what: str) -> None:
    async def done() -> bool:
        return await status(client) == expected

    await until(done, what, within=1.0)


async def test_a_right_changed_on_one_replica_holds_on_the_other(provider, make_settings, fakes):
    async with two_replicas(*mediator_replicas(provider, make_settings, fakes)) as (one, two):
        assert await status(two) == 500

        granted = await one.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
        assert granted.status_code == 201, granted.text
        await answers(two, 200, "the grant did not reach the other replica")

        revoked = await one.delete(f"/admin/rights/{granted.json()['id']}", headers=ADMIN)
        assert revoked.status_code == 204
        await answers(two, 500, "the revocation did not reach the other replica")


async def test_a_reset_through_one_replica_is_served_by_the_other(provider, make_settings, fakes):
    async with two_replicas(*mediator_replicas(provider, make_settings, fakes)) as (one, two):
        granted = await one.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
        assert granted.status_code == 201, granted.text
        await answers(two, 200, "the grant did not reach the other replica")
        fault = await one.post(
            "/admin/faults",
            headers=ADMIN,
            json={"provider": REGISTRIES, "kind": "error", "status": 503},
        )
        assert fault.status_code == 201, fault.text
        await answers(two, 503, "the fault did not reach the other replica")

        assert (await one.post("/admin/reset", headers=ADMIN)).status_code == 200
        # the seeded state: no right, no fault, on both replicas
        await answers(two, 500, "the reset did not reach the other replica")
        assert (await two.get("/admin/faults", headers=ADMIN)).json() == []
        assert await status(one) == 500
