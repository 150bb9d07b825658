"""Batch enrolment against what other transactions do meanwhile: a UIN or a person stored between
the batch's lookups and its insert (the unique indexes are the final guard), and concurrent
batches sharing people, through one app and (PostgreSQL) two replicas."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from services.id_registry import ids
from services.id_registry.errors import MosipError
from services.id_registry.identities import batch, service, store
from services.id_registry.identities.models import IdentityCreate
from services.id_registry.runtime import IdRegistryRuntime
from services.kernel.runtime import kernel_state, runtime_of
from services.kernel.testing import serve_in_process
from tests.conftest import SHARED_POSTGRES
from tests.id_registry.conftest import ADMIN
from tests.id_registry.test_batch_enrolment import BATCH, everyone, person
from tests.support.replicas import two_replicas

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SEED = 7


def draws(*counts: int) -> list[list[str]]:
    """The UINs a batch's rounds draw from `random.Random(SEED)`, `counts` a round."""
    rng = random.Random(SEED)
    return [ids.generate_uins(rng, count) for count in counts]


def run_batch(app: FastAPI, people: list[dict[str, Any]]) -> list[str | MosipError]:
    with kernel_state(app).database.session() as session:
        return batch.enrol_batch(
            session=session,
            people=[IdentityCreate.model_validate(data) for data in people],
            secret=runtime_of(app, IdRegistryRuntime).secret,
            now=NOW,
            rng=random.Random(SEED),
        )


def enrol_one(app: FastAPI, data: dict[str, Any]) -> str:
    with kernel_state(app).database.session() as session:
        identity = service.enrol(
            session=session,
            data=IdentityCreate.model_validate(data),
            secret=runtime_of(app, IdRegistryRuntime).secret,
            now=NOW,
        )
        return identity.uin


def store_as(app: FastAPI, data: dict[str, Any], uin: str) -> None:
    """Store a person under a chosen UIN (as another enrolment that drew it would)."""
    person = IdentityCreate.model_validate(data)
    with kernel_state(app).database.session() as session:
        session.add(service.new_identity(person, uin=uin, key=service.key_of(person), now=NOW))
        session.commit()


async def test_a_uin_stored_already_is_drawn_again(make_app):
    app = make_app()
    async with serve_in_process(app):
        [[first], [second]] = draws(1, 1)
        store_as(app, person(1), first)
        assert run_batch(app, [person(2)]) == [second]


async def test_a_uin_stored_after_the_check_is_drawn_again(make_app, monkeypatch):
    """The check of the drawn UINs misses one a concurrent transaction stores before the insert:
    the unique index skips that row and the next round draws it another UIN."""
    app = make_app()
    async with serve_in_process(app):
        [[first, second], [third]] = draws(2, 1)
        store_as(app, person(1), first)
        monkeypatch.setattr(store, "taken_uins", lambda session, uins: set())
        assert run_batch(app, [person(2), person(3)]) == [third, second]


def first_lookup_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's first lookup of dedupe keys runs before a concurrent enrolment commits."""
    real = store.uins_by_key
    calls: list[int] = []

    def lookup(session: Any, keys: Collection[str]) -> dict[str, str]:
        calls.append(1)
        return {} if len(calls) == 1 else real(session, keys)

    monkeypatch.setattr(store, "uins_by_key", lookup)


async def test_a_person_stored_after_the_lookup_is_refused_naming_the_record(make_app, monkeypatch):
    app = make_app()
    async with serve_in_process(app):
        stored = enrol_one(app, person(1))
        before = await everyone_of(app)
        first_lookup_misses(monkeypatch)
        outcomes = run_batch(
            app,
            [
                person(1, civilRegistrationId="BR-1"),  # stored meanwhile (without BR-1)
                person(2),
                person(1, address="elsewhere"),  # the first again
                person(3, civilRegistrationId="BR-1"),  # the first's birth, but it is refused
            ],
        )
        assert [type(outcome).__name__ for outcome in outcomes] == [
            "MosipError",
            "str",
            "MosipError",
            "str",
        ]
        for refused in (outcomes[0], outcomes[2]):
            assert isinstance(refused, MosipError) and stored in refused.message
        assert await everyone_of(app) == before + 2


async def everyone_of(app: FastAPI) -> int:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        return len(await everyone(client))


def overlapping(batches: int, size: int) -> list[list[dict[str, Any]]]:
    """`batches` batches of `size` people, each sharing half of its people with the next one,
    each in its own order."""
    out = []
    for b in range(batches):
        people = [person(n) for n in range(b * size // 2, b * size // 2 + size)]
        random.Random(b).shuffle(people)
        out.append(people)
    return out


async def concurrent_batches(pick: Callable[[int], httpx.AsyncClient], batches: int) -> None:
    size = 60
    sent = overlapping(batches, size)
    answers: dict[int, list[dict[str, Any]]] = {}

    async def send(b: int) -> None:
        response = await pick(b).post(BATCH, json={"identities": sent[b]}, headers=ADMIN)
        assert response.status_code == 200, response.text
        answers[b] = response.json()["results"]

    before = len(await everyone(pick(0)))
    async with anyio.create_task_group() as group:
        for b in range(batches):
            group.start_soon(send, b)
    issued: dict[str, str] = {}  # given name (one per person here) -> UIN
    refusals: list[tuple[str, str]] = []
    for b in range(batches):
        for data, result in zip(sent[b], answers[b], strict=True):
            name = data["givenName"]
            if result["status"] == 201:
                assert name not in issued, f"{name} enrolled twice"
                issued[name] = result["UIN"]
            else:
                assert result["errors"][0]["errorCode"] == "IDR-IDC-003"
                refusals.append((name, result["errors"][0]["errorMessage"]))
    distinct = {data["givenName"] for people in sent for data in people}
    assert set(issued) == distinct  # each person enrolled exactly once
    assert len(refusals) == batches * size - len(distinct)
    for name, message in refusals:
        assert issued[name] in message  # naming the record the other batch stored
    assert Counter(issued.values()).most_common(1)[0][1] == 1
    assert len(await everyone(pick(0))) == before + len(distinct)


async def test_concurrent_batches_sharing_people_enrol_each_once(make_app):
    async with serve_in_process(make_app(seed_population=0)) as client:
        await concurrent_batches(lambda b: client, 4)


@SHARED_POSTGRES
async def test_batches_through_two_replicas_enrol_each_person_once(make_app):
    first, second = make_app(seed_population=0), make_app(seed_population=0)
    async with two_replicas(first, second) as (one, two):
        await concurrent_batches(lambda b: (one, two)[b % 2], 6)
