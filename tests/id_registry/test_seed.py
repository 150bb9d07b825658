"""Seed data: deterministic, idempotent, with the partners of the topology."""

import random
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from services.id_registry.base import Base
from services.id_registry.errors import MosipError
from services.id_registry.identities.models import Identity
from services.id_registry.identities.service import enrol
from services.id_registry.seed import person, seed_population
from services.id_registry.settings import IdRegistrySettings
from services.kernel.credentials import partner_id
from services.kernel.db import Database
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


async def test_an_empty_population_starts_with_no_one(make_app, settings_for):
    async with serve_in_process(make_app(seed_population=0)) as client:
        assert await people(client, 500) == []
        assert len((await client.get("/v1/partners", headers=ADMIN)).json()) == 5


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


def _rows(database: Database) -> list[tuple[object, ...]]:
    with database.session() as session:
        identities = session.exec(select(Identity).order_by(col(Identity.id))).all()
        fields = "uin dedupe_key given_name family_name date_of_birth gender address phone email"
        fields += " language status created_at"
        return [tuple(getattr(i, name) for name in fields.split()) for i in identities]


def test_bulk_population_is_what_enrolling_each_person_gives(settings_for):
    """The seed's one-commit population holds the people and UINs that enrolling each generated
    person through `enrol` (the admin API's path, one commit each) gives, duplicates skipped."""
    settings = settings_for("id_registry", IdRegistrySettings, seed_population=120)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    bulk = Database(settings.database(), Base.metadata)
    reference = Database(
        settings_for("id_registry_reference", IdRegistrySettings).database(), Base.metadata
    )
    try:
        bulk.create_all()
        reference.create_all()
        with bulk.session() as session:
            added = seed_population(session=session, settings=settings, now=now)
        rng = random.Random(settings.seed_random_seed)
        enrolled = 0
        with reference.session() as session:
            for index in range(settings.seed_population):
                data = person(rng, index, date(2026, 1, 1))
                try:
                    enrol(session=session, data=data, secret=b"s", now=now, rng=rng, publish=False)
                except MosipError:
                    continue
                enrolled += 1
        assert added == enrolled == 120
        assert _rows(bulk) == _rows(reference)
        with bulk.session() as session:  # only into an empty registry
            assert seed_population(session=session, settings=settings, now=now) == 0
    finally:
        bulk.dispose()
        reference.dispose()
