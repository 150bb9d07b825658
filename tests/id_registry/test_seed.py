"""Seed data: deterministic, idempotent, with the partners of the topology."""

import pytest

from services.kernel.credentials import partner_id
from services.kernel.testing import serve_in_process
from services.kernel.topology import load_topology
from tests.id_registry.conftest import ADMIN, auth, codes, demo_of, envelope, people

pytestmark = pytest.mark.anyio


async def test_population_is_deterministic_and_seeded_once(make_app, settings_for):
    async with serve_in_process(make_app(seed_population=40)) as client:
        first = await people(client, 500)
    async with serve_in_process(make_app(seed_population=40)) as client:
        second = await people(client, 500)
    assert len(first) == 40
    assert [p["UIN"] for p in first] == [p["UIN"] for p in second]
    assert [p["identity"] for p in first] == [p["identity"] for p in second]


async def test_restart_does_not_seed_again(make_app, settings_for, tmp_path):
    from services.id_registry.main import create_app
    from services.id_registry.settings import IdRegistrySettings

    settings = settings_for("id_registry", IdRegistrySettings, seed_population=5)
    for _ in range(2):
        async with serve_in_process(
            create_app(settings, run_drainer=False, configure_logs=False)
        ) as client:
            assert len(await people(client, 500)) == 5
            assert len((await client.get("/v1/partners", headers=ADMIN)).json()) == 5


async def test_topology_partners_are_seeded_with_documented_keys(client):
    topology = load_topology()
    expected = {partner_id(m) for m in topology.subsystems()} - {"nia-id-registry"}
    partners = {p["partnerId"]: p for p in (await client.get("/v1/partners", headers=ADMIN)).json()}
    assert set(partners) == expected
    person = (await people(client))[0]
    for pid in expected:
        assert partners[pid]["policy"]["allowedAuthTypes"] == ["otp", "demo"]
        result = await auth(
            client, envelope(person["UIN"], demographics=demo_of(person)), partner=pid
        )
        assert result["response"]["authStatus"] is True, pid


async def test_partner_keys_can_be_overridden(make_app):
    app = make_app(partner_api_keys={"moh-hmis": "a-much-better-secret"}, misp_license_key="lk-2")
    async with serve_in_process(app) as client:
        person = (await people(client))[0]
        body = envelope(person["UIN"], demographics=demo_of(person))
        old = await client.post(
            "/idauthentication/v1/auth/lk-2/moh-hmis/moh-hmis-sandbox-key", json=body
        )
        assert old.status_code == 200 and codes(old.json()) == ["IDA-MPA-009"]
        new = await client.post(
            "/idauthentication/v1/auth/lk-2/moh-hmis/a-much-better-secret", json=body
        )
        assert new.json()["response"]["authStatus"] is True
