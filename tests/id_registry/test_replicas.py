"""Two ID system replicas on one PostgreSQL database: a partner's API key rotated through one
is refused by the other within a second, and the new key works there (shared partner cache)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.kernel.testing import serve_in_process
from tests.conftest import SHARED_POSTGRES
from tests.id_registry.conftest import ADMIN, demo_of, envelope, ida_path, people
from tests.id_registry.test_ida_errors import add_partner
from tests.support.replicas import wait_listening

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]


async def authenticate(client: httpx.AsyncClient, body: dict[str, Any], key: str) -> bool:
    response = await client.post(ida_path("auth", "bank-kyc", key), json=body)
    assert response.status_code == 200, response.text
    return response.json()["errors"] is None


async def test_a_rotated_key_is_refused_on_the_other_replica_within_a_second(make_app):
    first, second = make_app(), make_app()
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        wait_listening(first, second)
        old_key = await add_partner(one, "bank-kyc", ["demo"])
        person = (await people(one))[0]
        body = envelope(person["UIN"], demographics=demo_of(person))
        began = time.monotonic()
        while not await authenticate(two, body, old_key):  # the new partner reaches `two`
            assert time.monotonic() - began < 1.0, "the new partner did not reach the replica"

        rotated = await one.post("/v1/partners/bank-kyc/api-key", headers=ADMIN)
        new_key = rotated.json()["apiKey"]
        began = time.monotonic()
        while await authenticate(two, body, old_key):
            assert time.monotonic() - began < 1.0, "the old key still works on the replica"
        assert await authenticate(two, body, new_key)


async def test_a_reset_through_one_replica_is_served_by_the_other(make_app):
    first, second = make_app(), make_app()
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        wait_listening(first, second)
        key = await add_partner(one, "bank-kyc", ["demo"])
        person = (await people(one))[0]
        body = envelope(person["UIN"], demographics=demo_of(person))
        began = time.monotonic()
        while not await authenticate(two, body, key):  # `two` caches the partner now
            assert time.monotonic() - began < 1.0, "the new partner did not reach the replica"
        assert (await two.get("/v1/partners/bank-kyc", headers=ADMIN)).status_code == 200

        assert (await one.post("/admin/reset", headers=ADMIN)).status_code == 200
        began = time.monotonic()
        while (await two.get("/v1/partners/bank-kyc", headers=ADMIN)).status_code != 404:
            assert time.monotonic() - began < 1.0, "the reset did not reach the other replica"
        refused = await two.post(ida_path("auth", "bank-kyc", key), json=body)
        assert refused.status_code != 200 or refused.json()["errors"], refused.text
