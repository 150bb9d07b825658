"""`POST /admin/reset` on the mediator: rights, faults and members back to the seed; the message
log is kept (an audit log) and its hash chain still verifies."""

from __future__ import annotations

import pytest

from tests.interop_layer.support import (
    ADMIN,
    ECHO_RIGHT,
    EDUCATION,
    HEALTH,
    REGISTRIES,
    client_headers,
)

pytestmark = pytest.mark.anyio
RAW = f"/r1/{REGISTRIES}/raw/echo/x"
ECHO = f"/r1/{REGISTRIES}/echo/item/1"


async def test_reset_restores_the_seed_and_keeps_the_log(mediator):
    _, client = mediator
    assert (await client.post(ECHO, json={}, headers=client_headers(HEALTH))).status_code == 200
    granted = await client.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
    assert granted.status_code == 201, granted.text
    assert (await client.get(RAW, headers=client_headers(EDUCATION))).status_code == 200
    fault = {"provider": REGISTRIES, "kind": "latency", "latencyMs": 1}
    assert (await client.post("/admin/faults", json=fault, headers=ADMIN)).status_code == 201

    for headers in ({}, {"X-DPI-Admin-Key": "wrong"}):
        refused = await client.post("/admin/reset", headers=headers)
        assert refused.status_code == 401
        assert "admin" in refused.text.lower()
    reset = await client.post("/admin/reset", headers=ADMIN)
    assert reset.status_code == 200, reset.text
    assert set(reset.json()["kept"]) == {"im_log_record", "im_log_mark", "im_log_key"}

    assert (await client.get(RAW, headers=client_headers(EDUCATION))).status_code == 500
    assert (await client.post(ECHO, json={}, headers=client_headers(HEALTH))).status_code == 200
    assert (await client.get("/admin/faults", headers=ADMIN)).json() == []
    records = await client.get("/admin/messagelog/records", headers=ADMIN)
    assert len(records.json()["records"]) >= 4  # before the reset too
    report = await client.post("/admin/messagelog/verify", headers=ADMIN)
    assert report.status_code == 200 and report.json()["ok"] is True, report.text
    second = await client.post("/admin/reset", headers=ADMIN)
    assert second.status_code == 200, second.text  # the seeded rows restored this time
    assert (await client.post(ECHO, json={}, headers=client_headers(HEALTH))).status_code == 200
    report = await client.post("/admin/messagelog/verify", headers=ADMIN)
    assert report.json()["ok"] is True, report.text
