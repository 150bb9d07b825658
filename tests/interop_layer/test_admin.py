"""Admin API: rights, services, subsystems and issued API keys take effect at once."""

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


async def test_grant_list_revoke_a_right(mediator):
    _, client = mediator
    url = f"/r1/{REGISTRIES}/raw/echo/x"
    assert (await client.get(url, headers=client_headers(EDUCATION))).status_code == 500
    granted = await client.post("/admin/rights", headers=ADMIN, json=ECHO_RIGHT)
    assert granted.status_code == 201, granted.text
    right = granted.json()
    assert (await client.get(url, headers=client_headers(EDUCATION))).status_code == 200
    listed = await client.get(f"/admin/rights?client={EDUCATION}", headers=ADMIN)
    assert right["id"] in {r["id"] for r in listed.json()}
    assert (await client.delete(f"/admin/rights/{right['id']}", headers=ADMIN)).status_code == 204
    assert (await client.get(url, headers=client_headers(EDUCATION))).status_code == 500
    missing = await client.delete(f"/admin/rights/{right['id']}", headers=ADMIN)
    assert missing.status_code == 404
    unknown = await client.post(
        "/admin/rights",
        headers=ADMIN,
        json={"client": EDUCATION, "provider": REGISTRIES, "serviceCode": "nope"},
    )
    assert unknown.status_code == 404


async def test_register_a_service_and_a_subsystem_with_an_issued_key(mediator, provider):
    _, client = mediator
    newcomer = "DPI/GOV/MOA/farms"
    created = await client.post(
        "/admin/subsystems", headers=ADMIN, json={"id": newcomer, "name": "Agriculture"}
    )
    assert created.status_code == 201
    again = await client.post("/admin/subsystems", headers=ADMIN, json={"id": newcomer})
    assert again.status_code == 409
    service = await client.put(
        "/admin/services",
        headers=ADMIN,
        json={
            "provider": HEALTH,
            "serviceCode": "pets",
            "baseUrl": provider[1],
            "pathPrefix": "/echo",
        },
    )
    assert service.status_code == 200, service.text
    assert service.json()["resolvedUrl"] == provider[1] + "/echo"
    reserved = await client.put(
        "/admin/services",
        headers=ADMIN,
        json={"provider": HEALTH, "serviceCode": "listMethods", "baseUrl": provider[1]},
    )
    assert reserved.status_code == 400
    await client.post(
        "/admin/rights",
        headers=ADMIN,
        json={"client": newcomer, "provider": HEALTH, "serviceCode": "pets"},
    )
    issued = await client.post(
        "/admin/keys", headers=ADMIN, json={"subsystem": newcomer, "label": "test"}
    )
    assert issued.status_code == 201
    key = issued.json()["key"]
    headers = {"X-Road-Client": newcomer, "X-DPI-Client-Key": key}
    answer = await client.get(f"/r1/{HEALTH}/pets/dogs?x=1", headers=headers)
    assert answer.status_code == 200 and answer.json()["path"] == "/echo/dogs"
    listed = (await client.get(f"/admin/keys?subsystem={newcomer}", headers=ADMIN)).json()
    assert [k["id"] for k in listed] == [issued.json()["id"]] and "key" not in listed[0]
    revoked = await client.delete(f"/admin/keys/{issued.json()['id']}", headers=ADMIN)
    assert revoked.json()["revokedAt"] is not None
    after = await client.get(f"/r1/{HEALTH}/pets/dogs", headers=headers)
    assert after.status_code == 500
    assert after.json()["type"] == "Server.ClientProxy.SslAuthenticationFailed"
    removed = await client.delete(
        f"/admin/services?provider={HEALTH}&serviceCode=pets", headers=ADMIN
    )
    assert removed.status_code == 204
    gone = await client.get(f"/r1/{HEALTH}/pets/dogs", headers=client_headers(HEALTH))
    assert gone.headers["x-road-error"] == "Server.ServerProxy.UnknownService"
