"""Two ID system replicas on one PostgreSQL database: a partner's API key rotated through one
is refused by the other within a second, and the new key works there (shared partner cache)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import SHARED_POSTGRES
from tests.id_registry.conftest import ADMIN, demo_of, envelope, ida_path, people
from tests.id_registry.test_ida_errors import add_partner
from tests.support.polling import until
from tests.support.replicas import two_replicas

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]


async def authenticate(client: httpx.AsyncClient, body: dict[str, Any], key: str) -> bool:
    response = await client.post(ida_path("auth", "bank-kyc", key), json=body)
    assert response.status_code == 200, response.text
    return response.json()["errors"] is None


async def partner_on_both(
    one: httpx.AsyncClient, two: httpx.AsyncClient
) -> tuple[str, dict[str, Any]]:
    """A partner added through `one` and seen by `two` (which caches it now): its API key and an
    authentication request of a demo person."""
    key = await add_partner(one, "bank-kyc", ["demo"])
    person = (await people(one))[0]
    body = envelope(person["UIN"], demographics=demo_of(person))
    await until(
        lambda: authenticate(two, body, key), "the new partner reaching the replica", within=1.0
    )
    return key, body


async def test_a_rotated_key_is_refused_on_the_other_replica_within_a_second(make_app):
    async with two_replicas(make_app(), make_app()) as (one, two):
        old_key, body = await partner_on_both(one, two)

        rotated = await one.post("/v1/partners/bank-kyc/api-key", headers=ADMIN)
        new_key = rotated.json()["apiKey"]

        async def refused() -> bool:
            return not await authenticate(two, body, old_key)

        await until(refused, "the old key refused on the replica", within=1.0)
        assert await authenticate(two, body, new_key)


async def test_a_reset_through_one_replica_is_served_by_the_other(make_app):
    async with two_replicas(make_app(), make_app()) as (one, two):
        key, body = await partner_on_both(one, two)
        assert (await two.get("/v1/partners/bank-kyc", headers=ADMIN)).status_code == 200

        assert (await one.post("/admin/reset", headers=ADMIN)).status_code == 200

        async def gone() -> bool:
            return (await two.get("/v1/partners/bank-kyc", headers=ADMIN)).status_code == 404

        await until(gone, "the reset reaching the other replica", within=1.0)
        refused = await two.post(ida_path("auth", "bank-kyc", key), json=body)
        assert refused.status_code != 200 or refused.json()["errors"], refused.text
