"""`POST /admin/reset`: the ID system's tables emptied and seeded again, its caches dropped."""

from __future__ import annotations

import pytest

from services.kernel.testing import serve_in_process
from tests.id_registry.conftest import ADMIN, auth, demo_of, envelope, ida_path, people

pytestmark = pytest.mark.anyio


async def test_reset_needs_the_admin_key(client):
    for headers in ({}, {"X-DPI-Admin-Key": "wrong"}):
        refused = await client.post("/admin/reset", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["errorCode"]


async def test_reset_brings_back_the_seed_and_forgets_cached_changes(make_app):
    """Twice: each reset restores the rows the start seeded."""
    async with serve_in_process(make_app()) as client:
        seeded = await people(client)
        person = seeded[0]
        for n in range(2):
            body = envelope(person["UIN"], txn=f"BEFORE000{n}", demographics=demo_of(person))
            assert (await auth(client, body))["response"]["authStatus"] is True  # now cached
            changed = await client.patch(
                f"/v1/identities/{person['UIN']}", json={"fullName": "Someone Else"}, headers=ADMIN
            )
            assert changed.status_code == 200, changed.text
            off = await client.patch(
                "/v1/partners/moh-hmis", json={"status": "DEACTIVATED"}, headers=ADMIN
            )
            assert off.status_code == 200, off.text
            refused = await client.post(
                ida_path("auth"), json=envelope(person["UIN"], txn=f"OFF000000{n}")
            )
            assert refused.json()["response"] is None

            reset = await client.post("/admin/reset", headers=ADMIN)
            assert reset.status_code == 200, reset.text
            assert reset.json()["service"] == "id_registry" and reset.json()["tables"] > 0

            assert await people(client) == seeded
            again = envelope(person["UIN"], txn=f"AFTER0000{n}", demographics=demo_of(person))
            assert (await auth(client, again))["response"]["authStatus"] is True
