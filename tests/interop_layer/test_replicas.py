"""Two mediator replicas on one PostgreSQL database: an access right revoked or granted through
one takes effect on the other within a second (its directory snapshot is rebuilt)."""

from __future__ import annotations

import time

import pytest

from services.kernel.testing import serve_in_process
from tests.conftest import SHARED_POSTGRES
from tests.interop_layer.support import (
    ADMIN,
    ECHO_RIGHT,
    EDUCATION,
    REGISTRIES,
    client_headers,
    mediator_replicas,
)
from tests.support.replicas import wait_listening

pytestmark = [
    pytest.mark.anyio,
    SHARED_POSTGRES,
]

URL = f"/r1/{REGISTRIES}/raw/echo/x"


async def test_a_right_changed_on_one_replica_holds_on_the_other(provider, make_settings, fakes):
    first, second = mediator_replicas(provider, make_settings, fakes)
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        wait_listening(first, second)
        assert (await two.get(URL, headers=client_headers(EDUCATION))).status_code == 500

        granted = await one.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
        assert granted.status_code == 201, granted.text
        began = time.monotonic()
        while (await two.get(URL, headers=client_headers(EDUCATION))).status_code != 200:
            assert time.monotonic() - began < 1.0, "the grant did not reach the other replica"

        revoked = await one.delete(f"/admin/rights/{granted.json()['id']}", headers=ADMIN)
        assert revoked.status_code == 204
        began = time.monotonic()
        while (await two.get(URL, headers=client_headers(EDUCATION))).status_code != 500:
            assert time.monotonic() - began < 1.0, "the revocation did not reach the other replica"


async def test_a_reset_through_one_replica_is_served_by_the_other(provider, make_settings, fakes):
    first, second = mediator_replicas(provider, make_settings, fakes)
    async with serve_in_process(first) as one, serve_in_process(second) as two:
        wait_listening(first, second)
        granted = await one.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
        assert granted.status_code == 201, granted.text
        began = time.monotonic()
        while (await two.get(URL, headers=client_headers(EDUCATION))).status_code != 200:
            assert time.monotonic() - began < 1.0, "the grant did not reach the other replica"
        fault = await one.post(
            "/admin/faults",
            headers=ADMIN,
            json={"provider": REGISTRIES, "kind": "error", "status": 503},
        )
        assert fault.status_code == 201, fault.text
        began = time.monotonic()
        while (await two.get(URL, headers=client_headers(EDUCATION))).status_code != 503:
            assert time.monotonic() - began < 1.0, "the fault did not reach the other replica"

        assert (await one.post("/admin/reset", headers=ADMIN)).status_code == 200
        began = time.monotonic()  # the seeded state: no right, no fault, on both replicas
        while (await two.get(URL, headers=client_headers(EDUCATION))).status_code != 500:
            assert time.monotonic() - began < 1.0, "the reset did not reach the other replica"
        assert (await two.get("/admin/faults", headers=ADMIN)).json() == []
        assert (await one.get(URL, headers=client_headers(EDUCATION))).status_code == 500
